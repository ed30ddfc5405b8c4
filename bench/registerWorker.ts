/**
 * The fresh-process entry of bench/register.ts: one register trial, on plain
 * fs or under the hook (the parent decides with --require), one JSON line.
 *   node [--require riocache/register] dist/bench/registerWorker.js <trial> <dir> <quick>
 */
import { registerTrials } from './trials/register';

async function main(): Promise<void> {
  const [id, dir, quick] = process.argv.slice(2);
  const trial = registerTrials.find((t) => t.id === id);
  if (!trial) throw new Error(`no register trial "${id}"`);
  const n = quick === '1' ? Math.ceil(trial.ops / 10) : trial.ops;
  await trial.run(dir, Math.ceil(n / 5), 'warmup');
  const t0 = process.hrtime.bigint();
  await trial.run(dir, n, 'measure');
  const ns = Number(process.hrtime.bigint() - t0);
  const hooked = (globalThis as Record<symbol, unknown>)[Symbol.for('riocache.register')] !== undefined;
  process.stdout.write(JSON.stringify({ id, hooked, ops: n, ns, opsPerSec: n / (ns / 1e9) }) + '\n');
}

main().catch((err) => {
  process.stderr.write(`${(err as Error).stack}\n`);
  process.exit(1);
});
