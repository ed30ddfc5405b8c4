/**
 * The benchmark runner: `npm run bench` (full, under 10 minutes) and
 * `npm run bench:quick` (a smoke run under a minute, no figures worth quoting).
 *
 *   node dist/bench/run.js [--quick] [--json] [--reps N] [--only trial,…] [--no-recovery] [--out DIR]
 *
 * Every contender of every trial runs in its own fresh process
 * (dist/bench/worker.js); repetitions interleave the contenders in a rotated
 * order, so two contenders compared by a ratio always ran close together and
 * neither always ran first. Results: <out>/latest.json, latest.md and SVG
 * plots (out: bench/results, or bench/results/tmp for --quick).
 */
import * as fs from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { Command } from 'commander';
import { progressBar, table, formatDuration } from '../src/tools/term';
import { trials as allTrials } from './trials';
import type { TrialDef } from './trials/types';
import { aggregateTrial, summarizeProcess, type ProcessSummary, type TrialResult } from './lib/aggregate';
import type { OpJob, OpResult } from './lib/protocol';
import { runRecovery, type RecoveryResults } from './lib/recoveryRunner';
import { machine, markdownReport, overviewSvg, recoverySvg, regionSvg, trialSvg, verdicts, type Machine } from './lib/report';
import { SEED_DEFAULT } from './lib/rng';
import { diskBase, removeStale, shmBase } from './lib/scratch';
import { runWorker } from './lib/spawn';

const packageRoot = resolve(__dirname, '..', '..');

interface Settings {
  reps: number;
  warmupMs: number;
  warmupCapMs: number;
  measureMs: number;
  minSamples: number;
  sampleNs: number;
  seed: number;
}

const FULL: Settings = { reps: 3, warmupMs: 250, warmupCapMs: 3000, measureMs: 500, minSamples: 10, sampleNs: 200_000, seed: SEED_DEFAULT };
const QUICK: Settings = { reps: 1, warmupMs: 15, warmupCapMs: 150, measureMs: 30, minSamples: 5, sampleNs: 50_000, seed: SEED_DEFAULT };
const OP_TIMEOUT_MS = 180_000;

/**
 * Contenders of one repetition: rotated by the repetition (each repetition
 * starts with another contender), and on odd repetitions the rest run in
 * reverse order (so A runs before B in one repetition and after it in the next).
 */
export function orderFor<T>(xs: T[], rep: number, reps: number): T[] {
  const k = Math.floor((rep * xs.length) / Math.max(1, reps)) % Math.max(1, xs.length);
  const rotated = [...xs.slice(k), ...xs.slice(0, k)];
  return rep % 2 === 1 ? [rotated[0], ...rotated.slice(1).reverse()] : rotated;
}

function parse(argv: string[]) {
  const program = new Command('bench')
    .description('riocache benchmarks: side by side with fs, lmdb, a Map and the mapped-memory floor')
    .option('--quick', 'smoke run: small sizes, short windows, one repetition (under a minute)')
    .option('--json', 'print the results as JSON on stdout (progress stays on stderr)')
    .option('--reps <n>', 'repetitions of every trial', (v) => Number.parseInt(v, 10))
    .option('--only <trials>', 'comma-separated trial ids (default: all)')
    .option('--contenders <ids>', 'comma-separated contender ids (default: all of each trial)')
    .option('--no-recovery', 'skip the recovery trials')
    .option('--no-trials', 'only the recovery trials')
    .option('--out <dir>', 'where latest.json, latest.md and the SVGs go')
    .option('--from <json>', 'run nothing: rewrite latest.md and the SVGs from an earlier latest.json')
    .exitOverride();
  program.parse(argv, { from: 'user' });
  return program.opts<{
    quick?: boolean; json?: boolean; reps?: number; only?: string; contenders?: string; recovery: boolean; trials: boolean; out?: string; from?: string;
  }>();
}

type Report = {
  startedAt: string; durationS: number; command: string; quick: boolean; settings: Settings; machine: Machine;
  trials: TrialResult[]; recovery: RecoveryResults | null;
};

/** latest.md and the SVGs, from the results (of this run, or of a saved latest.json with --from). */
function writeReport(report: Report, out: string): void {
  const { trials, recovery } = report;
  fs.writeFileSync(join(out, 'latest.md'), markdownReport({
    startedAt: report.startedAt, command: report.command, quick: report.quick, reps: report.settings.reps,
    settings: { ...report.settings }, machine: report.machine, trials, recovery, durationS: report.durationS,
  }));
  for (const t of trials) if (t.contenders.length > 0) fs.writeFileSync(join(out, `${t.id}.svg`), trialSvg(t));
  if (trials.length > 1) fs.writeFileSync(join(out, 'overview.svg'), overviewSvg(trials));
  if (recovery) {
    fs.writeFileSync(join(out, 'recovery-scaling.svg'), recoverySvg(recovery));
    fs.writeFileSync(join(out, 'region-scaling.svg'), regionSvg(recovery));
  }
}

async function main(): Promise<number> {
  const started = Date.now();
  const opts = parse(process.argv.slice(2));
  if (opts.from) {
    const saved = JSON.parse(fs.readFileSync(opts.from, 'utf8')) as Report;
    const dir = resolve(opts.out ?? dirname(resolve(opts.from)));
    fs.mkdirSync(dir, { recursive: true });
    writeReport(saved, dir);
    process.stderr.write(`Rewrote ${join(dir, 'latest.md')} and the SVGs from ${opts.from}.\n`);
    return 0;
  }
  const quick = opts.quick === true;
  const settings: Settings = { ...(quick ? QUICK : FULL) };
  if (opts.reps !== undefined) {
    if (!Number.isInteger(opts.reps) || opts.reps < 1 || opts.reps > 50) throw new Error('--reps must be an integer from 1 to 50');
    settings.reps = opts.reps;
  }
  const only = opts.only?.split(',').map((s) => s.trim()).filter(Boolean);
  const pick = opts.contenders?.split(',').map((s) => s.trim()).filter(Boolean);
  const chosen: TrialDef[] = (opts.trials === false ? [] : allTrials.filter((t) => !only || only.includes(t.id)))
    .map((t) => (pick ? { ...t, contenders: t.contenders.filter((c) => pick.includes(c.id)) } : t));
  if (only) for (const id of only) if (!allTrials.some((t) => t.id === id)) throw new Error(`no trial "${id}"`);
  const out = resolve(opts.out ?? join(packageRoot, 'bench', 'results', quick ? 'tmp' : ''));
  fs.mkdirSync(out, { recursive: true });
  const runTag = `${process.pid}-`;
  const cleanup = () => removeStale(runTag);
  process.once('SIGINT', () => {
    cleanup();
    process.exit(130);
  });

  const failures: string[] = [];
  const runs = new Map<string, Map<string, ProcessSummary[]>>(chosen.map((t) => [t.id, new Map()]));
  const failed = new Map<string, Map<string, string[]>>(chosen.map((t) => [t.id, new Map()]));
  const jobsTotal = chosen.reduce((n, t) => n + t.contenders.length, 0) * settings.reps;
  const bar = progressBar('bench', !opts.json && process.stderr.isTTY === true);
  let done = 0;
  for (let rep = 0; rep < settings.reps; rep++) {
    for (const trial of chosen) {
      const order = orderFor(trial.contenders, rep, settings.reps);
      for (let i = 0; i < order.length; i++) {
        const c = order[i];
        bar.update(done, jobsTotal, `${trial.id} ${c.id} (rep ${rep + 1}/${settings.reps})`);
        const job: OpJob = {
          kind: 'op', trial: trial.id, contender: c.id, quick, seed: settings.seed, warmupMs: settings.warmupMs, warmupCapMs: settings.warmupCapMs,
          measureMs: settings.measureMs, minSamples: settings.minSamples, sampleNs: settings.sampleNs, scratchTag: `${runTag}op`,
        };
        try {
          const t0 = Date.now();
          const r = (await runWorker(job, { timeoutMs: OP_TIMEOUT_MS })) as OpResult;
          const byContender = runs.get(trial.id)!;
          byContender.set(c.id, [...(byContender.get(c.id) ?? []), summarizeProcess(r, rep, i, Date.now() - t0)]);
        } catch (err) {
          const message = (err as Error).message;
          failures.push(message);
          const byContender = failed.get(trial.id)!;
          byContender.set(c.id, [...(byContender.get(c.id) ?? []), message.replace(/^[^:]*\/ [^:]*: /, '')]);
          if (!opts.json) process.stderr.write(`\n${trial.id} / ${c.id} failed: ${message.split('\n')[0]}\n`);
        }
        done++;
      }
    }
  }
  bar.done(`${done} processes`);
  const trialsS = (Date.now() - started) / 1000;
  const trials: TrialResult[] = chosen.map((t) => aggregateTrial(t, quick, runs.get(t.id)!, failed.get(t.id)!));

  let recovery: RecoveryResults | null = null;
  if (opts.recovery !== false) {
    const rbar = progressBar('recovery', !opts.json && process.stderr.isTTY === true);
    let steps = 0;
    try {
      recovery = await runRecovery({
        quick, reps: opts.reps, seed: settings.seed, scratchTag: runTag,
        onStep: (label) => rbar.update(steps++, steps + 1, label),
      });
    } catch (err) {
      failures.push(`recovery: ${(err as Error).message}`);
      if (!opts.json) process.stderr.write(`\nrecovery failed: ${(err as Error).message}\n`);
    }
    rbar.done();
  }
  const recoveryS = (Date.now() - started) / 1000 - trialsS;
  cleanup();

  const command = `node dist/bench/run.js ${process.argv.slice(2).join(' ')}`.trim();
  const report = {
    version: 1,
    startedAt: new Date(started).toISOString(),
    durationS: (Date.now() - started) / 1000,
    phasesS: { trials: trialsS, recovery: recoveryS },
    command,
    quick,
    settings,
    machine: machine(diskBase(), shmBase()),
    verdicts: verdicts(trials, recovery),
    trials,
    recovery,
    failures,
  };
  fs.writeFileSync(join(out, 'latest.json'), `${JSON.stringify(report, null, 1)}\n`);
  writeReport(report, out);

  if (opts.json) {
    process.stdout.write(`${JSON.stringify(report)}\n`);
  } else {
    for (const t of trials) {
      process.stdout.write(`\n${t.title} (${t.id})\n`);
      process.stdout.write(`${table(['contender', t.unit === 'MB/s' ? 'MB/s' : 'median', 'rio sync / this'], t.contenders.map((c) => [
        c.label, c.runs.length === 0 ? `failed: ${c.failure}` : t.unit === 'MB/s' ? (c.mbps?.median ?? NaN) : formatDuration(c.ns.median),
        c.ratioSync?.median ?? NaN,
      ]))}\n`);
    }
    process.stdout.write(`\nTargets\n${table(['target', 'verdict', 'measured'], report.verdicts.map((v) => [
      v.text, v.met === null ? '—' : v.met ? 'met' : 'MISSED', v.measured,
    ]))}\n`);
    process.stdout.write(`\nWrote ${join(out, 'latest.md')} and latest.json, SVGs (${report.durationS.toFixed(0)} s).\n`);
  }
  if (failures.length > 0) process.stderr.write(`${failures.length} failure(s): ${failures.map((f) => f.split('\n')[0]).join('; ')}\n`);
  return failures.length > 0 ? 1 : 0;
}

if (require.main === module) {
  main().then((code) => {
    process.exitCode = code;
  }, (err) => {
    process.stderr.write(`bench: ${(err as Error).message}\n`);
    process.exitCode = 2;
  });
}
