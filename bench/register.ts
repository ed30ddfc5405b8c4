/**
 * Real workloads on plain fs and under riocache/register, side by side in
 * one run (bench/trials/register.ts): each (trial, side, repetition) in a
 * fresh process; repetitions interleaved, the side that starts alternating;
 * a ratio (hooked / plain ops per second) formed inside each repetition; the
 * report gives the median ratio and its range.
 *
 *   node dist/bench/register.js [--quick] [--reps N] [--only id,id] [--json]
 *
 * The data directories are on the disk (/tmp: write-back is real I/O); the
 * region in /dev/shm. Results: bench/results/register.md and .json (a quick
 * run: bench/results/tmp/).
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { native } from '../src/native';
import { registerTrials } from './trials/register';

interface Side {
  opsPerSec: number;
}

function parseArgs(argv: string[]): { quick: boolean; reps: number; only: string[] | null; json: boolean } {
  const quick = argv.includes('--quick');
  const at = (flag: string) => (argv.includes(flag) ? argv[argv.indexOf(flag) + 1] : undefined);
  const reps = Number(at('--reps') ?? (quick ? 1 : 3));
  if (!Number.isInteger(reps) || reps < 1) throw new Error('--reps must be a positive integer');
  const only = at('--only')?.split(',') ?? null;
  return { quick, reps, only, json: argv.includes('--json') };
}

function runSide(id: string, hooked: boolean, quick: boolean): Side {
  const dir = fs.mkdtempSync(join('/tmp', `riocache-bench-${id}-`));
  const region = join(fs.existsSync('/dev/shm') ? '/dev/shm' : '/tmp', `${dir.split('/').pop()}.rio`);
  const trial = registerTrials.find((t) => t.id === id)!;
  // The "outside" trials run their files in a directory that is not the root.
  const root = trial.outside ? fs.mkdtempSync(join('/tmp', 'riocache-bench-root-')) : dir;
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const k of Object.keys(env)) if (k.startsWith('RIOCACHE_') && k !== 'RIOCACHE_CRC32C') delete env[k];
  if (hooked) Object.assign(env, { RIOCACHE_ROOT: root, RIOCACHE_REGION: region, RIOCACHE_SIZE: '256MiB' });
  try {
    const r = spawnSync(process.execPath, [...(hooked ? ['--require', join(__dirname, '..', 'src', 'register', 'index.js')] : []),
      join(__dirname, 'registerWorker.js'), id, dir, quick ? '1' : '0'], { env, encoding: 'utf8', timeout: 600_000 });
    if (r.status !== 0) throw new Error(`${id} (${hooked ? 'hooked' : 'plain'}) failed: ${r.stderr}`);
    const out = JSON.parse(r.stdout.trim().split('\n').pop()!);
    if (out.hooked !== hooked) throw new Error(`${id}: the worker ran ${out.hooked ? 'with' : 'without'} the hook`);
    return { opsPerSec: out.opsPerSec };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
    if (root !== dir) fs.rmSync(root, { recursive: true, force: true });
    for (const f of fs.readdirSync(join(region, '..'))) if (f.startsWith(region.split('/').pop()!)) fs.rmSync(join(region, '..', f), { force: true });
  }
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

function main(): void {
  const o = parseArgs(process.argv.slice(2));
  const trials = registerTrials.filter((t) => !o.only || o.only.includes(t.id));
  const rows = [];
  for (const t of trials) {
    const ratios: number[] = [];
    const plain: number[] = [];
    const hooked: number[] = [];
    for (let rep = 0; rep < o.reps; rep++) {
      const order = rep % 2 === 0 ? [false, true] : [true, false];
      const got: Record<string, number> = {};
      for (const h of order) got[String(h)] = runSide(t.id, h, o.quick).opsPerSec;
      plain.push(got.false);
      hooked.push(got.true);
      ratios.push(got.true / got.false);
      process.stderr.write(`${t.id} rep ${rep + 1}/${o.reps}: plain ${got.false.toFixed(0)}/s, hooked ${got.true.toFixed(0)}/s, ratio ${(got.true / got.false).toFixed(2)}\n`);
    }
    rows.push({ id: t.id, title: t.title, plain: median(plain), hooked: median(hooked), ratio: median(ratios),
      min: Math.min(...ratios), max: Math.max(...ratios) });
  }
  const cpu = cpus()[0]?.model ?? 'unknown';
  const crc = native.info().crc32c;
  const report = { command: `node dist/bench/register.js ${process.argv.slice(2).join(' ')}`.trim(), cpu, crc32c: crc, node: process.version,
    reps: o.reps, quick: o.quick, date: new Date().toISOString(), rows };
  if (o.json) {
    process.stdout.write(JSON.stringify(report, null, 2) + '\n');
    return;
  }
  const md = [
    `# Real workloads: plain fs vs riocache/register`, '',
    `\`${report.command}\` on ${cpu}, crc32c ${crc}, Node ${process.version}, ${o.reps} repetition(s), ${report.date}.`,
    'Ratio = hooked / plain operations per second, median of the per-repetition ratios [min–max].', '',
    '| trial | plain ops/s | hooked ops/s | ratio |', '|---|---:|---:|---:|',
    ...rows.map((r) => `| ${r.title} | ${r.plain.toFixed(0)} | ${r.hooked.toFixed(0)} | **${r.ratio.toFixed(2)}×** [${r.min.toFixed(2)}–${r.max.toFixed(2)}] |`),
    '',
  ].join('\n');
  const outDir = join(__dirname, '..', '..', 'bench', 'results', o.quick ? 'tmp' : '');
  fs.mkdirSync(outDir, { recursive: true });
  fs.writeFileSync(join(outDir, 'register.md'), md);
  fs.writeFileSync(join(outDir, 'register.json'), JSON.stringify(report, null, 2) + '\n');
  process.stdout.write(md);
}

main();
