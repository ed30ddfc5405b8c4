#!/usr/bin/env bash
# Builds the addon with ASan + UBSan (cmake-js, debug) and runs the tests that
# exercise native code against it. Node is not instrumented, so the sanitizer
# runtimes are preloaded; leak checking is off because Node keeps allocations
# alive until exit by design.
set -euo pipefail
cd "$(dirname "$0")/.."
npm run build:sanitize
npm run build
addon="$(pwd)/build-sanitize/Debug/riocache.node"
[ -f "$addon" ] || addon="$(find build-sanitize -name riocache.node | head -n 1)"
asan="$(g++ -print-file-name=libasan.so)"
ubsan="$(g++ -print-file-name=libubsan.so)"
echo "sanitized addon: $addon"
export RIOCACHE_ADDON="$addon"
export LD_PRELOAD="$asan:$ubsan"
export ASAN_OPTIONS="detect_leaks=0:abort_on_error=1:detect_odr_violation=0"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
node -e "const {native}=require('./dist/src/native'); if (!process.env.RIOCACHE_ADDON || !require.cache[process.env.RIOCACHE_ADDON]) throw new Error('the sanitized addon did not load'); console.log('loaded', native.info())"
npx vitest run test/01-native test/02-region ${SANITIZE_TESTS:-}
