/**
 * Where the time goes: runs one contender of one trial in a worker under
 * `node --cpu-prof` (and, with --perf, under `perf record`), then prints the
 * functions that hold the CPU during the measured window.
 *
 *   node dist/bench/profile.js overwrite-4k rio.sync [--perf] [--ms 3000] [--quick]
 *
 * Writes bench/results/profiles/<trial>.<contender>.txt (the summary) and
 * keeps the raw profile under bench/results/tmp/. Only samples under the
 * measured batches count (tinybench's task function is named measuredBatch),
 * so setup, prefill and warm-up are left out; for promise-based contenders
 * the part of each operation that runs after an await is not under it, so
 * profile their sync twins instead.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { join, resolve } from 'node:path';
import { functionTimes, readProfile, summarizeProfile } from './lib/cpuprofile';
import type { OpJob } from './lib/protocol';
import { SEED_DEFAULT } from './lib/rng';
import { trialById } from './trials';

const packageRoot = resolve(__dirname, '..', '..');

function perfAvailable(): boolean {
  return spawnSync('perf', ['--version'], { encoding: 'utf8' }).status === 0;
}

function main(): number {
  const args = process.argv.slice(2);
  const flag = (name: string) => args.includes(name);
  const value = (name: string, fallback: number) => {
    const i = args.indexOf(name);
    return i >= 0 ? Number(args[i + 1]) : fallback;
  };
  const [trialId, contenderId] = args.filter((a, i) => !a.startsWith('--') && !args[i - 1]?.startsWith('--ms'));
  if (!trialId || !contenderId) {
    process.stderr.write('usage: node dist/bench/profile.js <trial> <contender> [--perf] [--ms N] [--quick]\n');
    return 2;
  }
  const trial = trialById(trialId);
  if (!trial.contenders.some((c) => c.id === contenderId)) throw new Error(`trial ${trialId} has no contender ${contenderId}`);
  const quick = flag('--quick');
  const job: OpJob = {
    kind: 'op', trial: trialId, contender: contenderId, quick, seed: SEED_DEFAULT, warmupMs: 250, warmupCapMs: 3000,
    measureMs: value('--ms', 3000), minSamples: 10, sampleNs: 200_000, scratchTag: `${process.pid}-prof`,
  };
  const name = `${trialId}.${contenderId}`.replace(/[^A-Za-z0-9.+-]/g, '_');
  const rawDir = join(packageRoot, 'bench', 'results', 'tmp', 'profiles', name);
  const outDir = join(packageRoot, 'bench', 'results', 'profiles');
  fs.rmSync(rawDir, { recursive: true, force: true });
  fs.mkdirSync(rawDir, { recursive: true });
  fs.mkdirSync(outDir, { recursive: true });
  const worker = join(__dirname, 'worker.js');
  const run = spawnSync(process.execPath, ['--cpu-prof', '--cpu-prof-dir', rawDir, '--cpu-prof-interval', '100', worker, JSON.stringify(job)],
    { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  const reply = JSON.parse(run.stdout.trim().split('\n').pop() || '{}');
  if (run.status !== 0 || reply.kind !== 'op') throw new Error(`the worker failed: ${run.stderr}`);
  const profile = fs.readdirSync(rawDir).find((f) => f.endsWith('.cpuprofile'));
  if (!profile) throw new Error(`no profile in ${rawDir}`);
  const t = functionTimes(readProfile(join(rawDir, profile)), 'measuredBatch');
  const m = reply.measurement;
  const lines = [
    `${trial.title} — ${contenderId} (${quick ? 'quick' : 'full'} sizes)`,
    `measured: median ${(m.tinybench.p50).toFixed(0)} ns/op, ${m.ops} ops in the window, batch ${m.batch}`,
    `cpu profile (node --cpu-prof, 100 µs sampling), samples under measuredBatch only:`,
    summarizeProfile(t, 25),
  ];
  if (flag('--perf')) {
    if (!perfAvailable()) {
      lines.push('', 'perf: not available on this machine');
    } else {
      const data = join(rawDir, 'perf.data');
      // cwd: V8 drops its isolate-*.log there; the JIT symbol map goes to /tmp/perf-<pid>.map (removed below).
      const rec = spawnSync('perf', ['record', '-F', '1999', '-g', '-o', data, '--', process.execPath, '--perf-basic-prof',
        worker, JSON.stringify(job)], { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024, cwd: rawDir });
      if (rec.status !== 0) {
        lines.push('', `perf record failed: ${rec.stderr.split('\n').slice(-3).join(' ')}`);
      } else {
        const rep = spawnSync('perf', ['report', '-i', data, '--stdio', '--no-children', '--sort', 'dso,sym', '--percent-limit', '0.7', '-g', 'none'],
          { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
        lines.push('', 'perf (whole process, setup included; --perf-basic-prof names JIT code):',
          ...rep.stdout.split('\n').filter((l) => l.trim() !== '' && !l.startsWith('#')).slice(0, 40));
        const pids = new Set(spawnSync('perf', ['report', '-i', data, '--stdio', '--sort', 'pid'], { encoding: 'utf8' })
          .stdout.match(/(\d+):node/g)?.map((m) => m.slice(0, -5)) ?? []);
        for (const pid of pids) fs.rmSync(`/tmp/perf-${pid}.map`, { force: true });
      }
    }
  }
  const text = `${lines.join('\n')}\n`;
  fs.writeFileSync(join(outDir, `${name}.txt`), text);
  process.stdout.write(text);
  return 0;
}

try {
  process.exitCode = main();
} catch (err) {
  process.stderr.write(`profile: ${(err as Error).message}\n`);
  process.exitCode = 1;
}
