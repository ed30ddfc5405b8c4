// The widened differential (test/03-cache/differential-names.ts, compiled to
// plain JS by the test) on plain node:fs: one seeded sequence applied to two
// twin directories through the same `fs` module, each namespace step in a
// seeded form (Sync, callback or promise). Under riocache/register the first
// twin lies beneath RIOCACHE_ROOT, so its calls go through the cache; the
// second does not, so its calls reach the real fs. Prints one JSON line: the
// first step whose results differ, or the count of steps and kinds seen.
const fs = require('node:fs');
const [lib, cacheRoot, nodeRoot, seed, steps, blockSize] = process.argv.slice(2);
const { namespaceOperations, NameSide, runNamed } = require(lib);

async function main() {
  const hooked = new NameSide(fs, cacheRoot, cacheRoot, true);
  const plain = new NameSide(fs, nodeRoot, nodeRoot, false);
  const seen = new Set();
  let i = 0;
  for (const step of namespaceOperations(Number(seed), Number(steps), Number(blockSize), true)) {
    const a = JSON.stringify(await runNamed(step, hooked));
    const b = JSON.stringify(await runNamed(step, plain));
    if (a !== b || hooked.violations.length > 0) {
      console.log(JSON.stringify({ step: i, face: plain.face, hooked: a.slice(0, 400), plain: b.slice(0, 400), violation: hooked.violations[0] }));
      process.exit(1);
    }
    const op = JSON.parse(b).op;
    seen.add(op === 'error' ? 'error' : op.split(' ')[0]);
    i++;
  }
  // Under the hook: what went through the cache, which proves the first twin's calls did.
  const hook = globalThis[Symbol.for('riocache.register')];
  const cached = hook ? { writes: hook.cache.stats().writes } : null;
  console.log(JSON.stringify({ steps: i, kinds: [...seen].sort(), cached }));
}
main().catch((err) => {
  console.error(err);
  process.exit(2);
});
