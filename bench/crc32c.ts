/**
 * crc32c throughput of every implementation this CPU can run, each forced
 * with RIOCACHE_CRC32C in its own process (the choice is made once, at load):
 *
 *   node dist/bench/crc32c.js [--json]        (npm run bench:crc32c)
 *
 * For each input size, the best of many timed batches of checksums of one
 * buffer (the bytes stay in the CPU caches: this is the instruction path, not
 * memory bandwidth). The 4 KiB figure includes the cost of one native call
 * (about 25-50 ns), as every checksum of a block the cache computes does;
 * the 1 MiB figure is the loop itself.
 */
import { execFileSync } from 'node:child_process';
import { native } from '../src/native';
import { table } from '../src/tools/term';

const SIZES = [4096, 65536, 1 << 20];
const BATCHES = 300;

interface PathResult {
  path: string;
  /** bytes per nanosecond (GB/s), per size */
  gbps: Record<string, number>;
}

/** In the child: the best batch time of each size, with the implementation it ran. */
function measureHere(): PathResult {
  const buf = Buffer.alloc(SIZES[SIZES.length - 1]);
  for (let i = 0; i < buf.length; i++) buf[i] = (i * 2654435761) >>> 24;
  const gbps: Record<string, number> = {};
  let sink = 0;
  for (const n of SIZES) {
    const perBatch = Math.max(4, Math.floor((1 << 20) / n));
    let best = Infinity;
    for (let b = 0; b < BATCHES; b++) {
      const t0 = process.hrtime.bigint();
      for (let i = 0; i < perBatch; i++) sink ^= native.crc32c(buf, 0, n, sink >>> 0);
      const ns = Number(process.hrtime.bigint() - t0) / perBatch;
      if (ns < best) best = ns;
    }
    gbps[String(n)] = n / best;
  }
  if (sink === 0.5) process.stdout.write(''); // keeps the checksums live
  return { path: native.info().crc32c, gbps };
}

function main(): void {
  if (process.argv.includes('--child')) {
    process.stdout.write(`${JSON.stringify(measureHere())}\n`);
    return;
  }
  const results: PathResult[] = native.info().crc32cAvailable.split(',').map((path) => {
    const out = execFileSync(process.execPath, [__filename, '--child'], { env: { ...process.env, RIOCACHE_CRC32C: path } }).toString();
    const r = JSON.parse(out.trim().split('\n').pop() ?? '{}') as PathResult;
    if (r.path !== path) throw new Error(`RIOCACHE_CRC32C=${path} ran ${r.path}`);
    return r;
  });
  if (process.argv.includes('--json')) {
    process.stdout.write(`${JSON.stringify({ cpu: require('node:os').cpus()[0]?.model, results })}\n`);
    return;
  }
  process.stdout.write(`${table(['path', ...SIZES.map((n) => `${n >= 1 << 20 ? `${n >> 20} MiB` : `${n >> 10} KiB`} (GB/s)`)],
    results.map((r) => [r.path, ...SIZES.map((n) => r.gbps[String(n)].toFixed(1))]))}\n`);
}

main();
