/**
 * A crash campaign: run a workload in a child process, SIGKILL it at a
 * random instant, let the warm reboot run (in the restarted workload or in
 * `riocache recover`, sometimes killed itself), check the files against the
 * oracle, and repeat.
 *
 * Kills come two ways: half are timed by this process (a random delay after
 * the workload started), half are the child killing itself right before a
 * region store whose index the seed chose, which lands them anywhere, inside
 * recovery included, and makes them replayable.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { invalidValue, outOfRange } from '../../errors';
import { checkInteger, checkNumber, parseBytes } from '../../options';
import { LOST_AND_FOUND, type QuarantineRecord } from '../../recovery/quarantine';
import type { RecoveryReport } from '../../recovery/report';
import { inspectRegion } from '../inspect/inspect';
import type { ChildConfig } from './child';
import { injectCorruption, type Injected } from './corrupt';
import { Model, verify, readTree, type Verdict } from './oracle';
import { LineReader, type OpRecord } from './protocol';
import { mulberry } from './random';
import { chooseHeader } from '../../region/header';
import { Segments } from '../../cache/segments';
import { readOnlyMemory } from '../inspect/inspect';
import { ACCOUNT_FILES, ACCOUNTS_PER_FILE, BALANCES_SEGMENT, builtins, OPENING_BALANCE } from './workloads';

export interface CampaignOptions {
  /** Number of SIGKILLs of the workload. */
  kills: number;
  seed: number;
  /** A built-in workload (append, overwrite, mixed) or the path of a module exporting one. */
  workload: string;
  regionSize?: string;
  blockSize?: number;
  /** Probability that a recovery is itself killed (and run again). */
  killDuringRecovery: number;
  /** Probability that a dirty buffer is damaged between a kill and the restart. */
  corrupt: number;
  /** Keep the directory of a failing case. */
  keep: boolean;
  /** Where to work (a fresh directory is made inside). Default: /dev/shm or the temp directory. */
  dir?: string;
  /** Time the workload runs before a timed kill, in ms. */
  runMs?: [number, number];
  onProgress?: (p: CampaignProgress) => void;
}

export interface CampaignProgress {
  kills: number;
  total: number;
  recoveries: number;
  writesVerified: number;
  failures: number;
}

export interface Failure {
  kill: number;
  check: string;
  details: string[];
  kept: string | null;
}

export interface CampaignResult {
  workload: string;
  seed: number;
  kills: number;
  killsByTimer: number;
  killsAtStore: number;
  recoveries: number;
  recoveriesByWorkload: number;
  recoveriesByCli: number;
  killsDuringRecovery: number;
  acknowledgedWrites: number;
  acknowledgedOps: number;
  inFlightApplied: number;
  inFlightAbsent: number;
  bytesVerified: number;
  lost: number;
  torn: number;
  orderViolations: number;
  corruptionsWritten: number;
  recoveryFailures: number;
  workloadFailures: number;
  corruptionsInjected: number;
  corruptionsDetected: number;
  /** Transfer workload: times the totals were checked after a recovery. */
  totalsChecked: number;
  durationMs: number;
  failures: Failure[];
  replay: string;
  ok: boolean;
}

/** The compiled directory of this module (run from TypeScript sources in tests, children need dist/). */
const here = __filename.endsWith('.ts') ? resolve(__dirname, '..', '..', '..', 'dist', 'src', 'tools', 'crashtest') : __dirname;
const childScript = join(here, 'child.js');
const recoverScript = join(here, 'recover-child.js');
const cliScript = resolve(here, '..', '..', 'cli.js');

export function validateCampaign(o: Partial<CampaignOptions>): CampaignOptions {
  const kills = checkInteger('kills', o.kills ?? 60, 1, 10_000_000);
  const seed = checkInteger('seed', o.seed ?? 1, 0, 2 ** 31 - 1);
  const workload = o.workload ?? 'mixed';
  if (!builtins[workload] && !fs.existsSync(workload)) {
    throw invalidValue('workload', `must be one of ${Object.keys(builtins).join(', ')} or the path of a module`, workload);
  }
  const regionSize = o.regionSize ?? builtins[workload]?.regionSize ?? '4MiB';
  parseBytes('regionSize', regionSize);
  const blockSize = checkInteger('blockSize', o.blockSize ?? 4096, 512, 1 << 20);
  const killDuringRecovery = checkNumber('killDuringRecovery', o.killDuringRecovery ?? 0.2, 0, 1);
  const corrupt = checkNumber('corrupt', o.corrupt ?? 0, 0, 1);
  if (corrupt > 0 && workload === 'transfer') {
    throw invalidValue('corrupt', 'must be 0 for the transfer workload (a quarantined block breaks the totals by design)', corrupt);
  }
  const runMs = o.runMs ?? [5, 100];
  if (runMs[0] < 0 || runMs[1] < runMs[0]) throw outOfRange('runMs', 'a range [min, max] with 0 <= min <= max', runMs);
  return { kills, seed, workload, regionSize, blockSize, killDuringRecovery, corrupt, keep: o.keep ?? false, dir: o.dir, runMs, onProgress: o.onProgress };
}

/** The segments of a region, read from its file (the region is not open: recovery closed it, or its owner waits). */
function segmentsOf(region: string): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  const fd = fs.openSync(region, 'r');
  try {
    const head = Buffer.alloc(8192);
    fs.readSync(fd, head, 0, head.length, 0);
    const g = chooseHeader(head, region).header.geometry;
    if (g.segmentAreaBytes === 0) return out;
    for (const seg of new Segments(readOnlyMemory(fd, g), g, -1).all()) out.set(seg.name, Buffer.from(seg.view));
  } finally {
    fs.closeSync(fd);
  }
  return out;
}

/** The transfer workload's invariant: every account file sums to the opening total, and the segment mirrors the files. */
function transferTotals(root: string, segments: Map<string, Buffer>): { ok: boolean; details: string[] } {
  const files = ACCOUNT_FILES.map((f) => (fs.existsSync(join(root, f)) ? fs.readFileSync(join(root, f)) : Buffer.alloc(0)));
  const seg = segments.get(BALANCES_SEGMENT);
  if (files.every((f) => f.length === 0) && (!seg || seg.every((b) => b === 0))) return { ok: true, details: [] }; // not set up yet
  const expected = BigInt(ACCOUNT_FILES.length * ACCOUNTS_PER_FILE * OPENING_BALANCE);
  let sum = 0n;
  for (const f of files) for (let i = 0; i + 8 <= f.length; i += 8) sum += f.readBigInt64LE(i);
  const details: string[] = [];
  if (sum !== expected) details.push(`the account files sum to ${sum}, expected ${expected}`);
  if (!seg || !seg.equals(Buffer.concat(files))) details.push('the balances segment does not mirror the account files');
  return { ok: details.length === 0, details };
}

/** Quarantine records written since the last call (by any recovery, killed or not). */
function quarantineRecords(root: string, seen: Set<string>): QuarantineRecord[] {
  const dir = join(root, LOST_AND_FOUND);
  if (!fs.existsSync(dir)) return [];
  const out: QuarantineRecord[] = [];
  for (const name of fs.readdirSync(dir)) {
    if (!name.endsWith('.json') || seen.has(name)) continue;
    seen.add(name);
    out.push(JSON.parse(fs.readFileSync(join(dir, name), 'utf8')));
  }
  return out;
}

interface RunOutcome {
  signal: NodeJS.Signals | null;
  code: number | null;
  recovery: RecoveryReport | null;
  stderr: string;
}

/** One workload process: spawned, recovery reported, verified (callback), run, killed. */
class WorkloadRun {
  readonly proc: ChildProcess;
  private reader = new LineReader();
  private stderr = '';
  recovery: RecoveryReport | null = null;
  private onRecovered: ((r: RecoveryReport) => void) | null = null;
  private closed: Promise<void>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  constructor(cfg: ChildConfig, private readonly onMessage: (kind: string, body: any) => void) {
    this.proc = spawn(process.execPath, [childScript, JSON.stringify(cfg)], { stdio: ['pipe', 'ignore', 'pipe', 'pipe'] });
    const records = this.proc.stdio[3] as NodeJS.ReadableStream;
    records.setEncoding('utf8');
    this.closed = new Promise((res) => records.on('close', () => res()));
    records.on('data', (chunk: string) => {
      for (const m of this.reader.feed(chunk)) {
        if (m.kind === 'R') {
          this.recovery = m.body;
          this.onRecovered?.(m.body);
        } else {
          this.onMessage(m.kind, m.body);
        }
      }
    });
    this.proc.stderr!.setEncoding('utf8');
    this.proc.stderr!.on('data', (d: string) => (this.stderr += d));
    this.exited = new Promise((res) => this.proc.on('exit', (code, signal) => res({ code, signal })));
  }

  /** Resolves with the recovery report once the cache is open, or null if the process died first. */
  opened(): Promise<RecoveryReport | null> {
    if (this.recovery) return Promise.resolve(this.recovery);
    return new Promise((res) => {
      this.onRecovered = res;
      this.exited.then(() => res(this.recovery));
    });
  }

  go(): void {
    this.proc.stdin!.write('go\n');
  }

  async finish(): Promise<RunOutcome> {
    const { code, signal } = await this.exited;
    await this.closed;
    return { code, signal, recovery: this.recovery, stderr: this.stderr };
  }
}

export async function runCampaign(input: Partial<CampaignOptions>): Promise<CampaignResult> {
  const o = validateCampaign(input);
  const started = Date.now();
  const random = mulberry(o.seed);
  const base = fs.mkdtempSync(join(o.dir ?? (fs.existsSync('/dev/shm') ? '/dev/shm' : tmpdir()), 'riocache-crashtest-'));
  const root = join(base, 'root');
  const region = join(base, 'region.rio');
  fs.mkdirSync(root);
  for (const d of builtins[o.workload]?.directories ?? []) fs.mkdirSync(join(root, d));
  const r: CampaignResult = {
    workload: o.workload, seed: o.seed, kills: 0, killsByTimer: 0, killsAtStore: 0, recoveries: 0, recoveriesByWorkload: 0,
    recoveriesByCli: 0, killsDuringRecovery: 0, acknowledgedWrites: 0, acknowledgedOps: 0, inFlightApplied: 0, inFlightAbsent: 0,
    bytesVerified: 0, lost: 0, torn: 0, orderViolations: 0, corruptionsWritten: 0, recoveryFailures: 0, workloadFailures: 0, corruptionsInjected: 0,
    corruptionsDetected: 0, totalsChecked: 0, durationMs: 0, failures: [],
    replay: `riocache crashtest --workload ${o.workload} --seed ${o.seed} --kills ${o.kills} --kill-during-recovery ${o.killDuringRecovery} ` +
      `--corrupt ${o.corrupt} --region-size ${o.regionSize} --block-size ${o.blockSize} --keep`,
    ok: true,
  };
  const model = new Model(o.seed);
  const seenRecords = new Set<string>();
  let pending: OpRecord | null = null;
  let nextSeq = 0;
  let crashed = false;
  let run = 0;
  const segmentAreaSize = builtins[o.workload]?.segmentAreaSize;
  const cfgFor = (killAtStore?: number): ChildConfig => ({
    region, root, size: o.regionSize!, blockSize: o.blockSize!, workload: o.workload, seed: o.seed, run: run++, firstSeq: nextSeq,
    ...(segmentAreaSize ? { segmentAreaSize } : {}),
    ...(killAtStore === undefined ? {} : { killAtStore }),
  });
  // The last operations, for the record a kept failure leaves behind.
  const recent: Array<{ kind: string; body: unknown }> = [];
  let lastRecovery: RecoveryReport | null = null;
  let lastInjected: Injected[] = [];
  const onMessage = (kind: string, body: any) => {
    recent.push({ kind, body: kind === 'I' ? { ...body, data: undefined } : body });
    if (recent.length > 500) recent.shift();
    if (kind === 'I') {
      pending = body as OpRecord;
      nextSeq = Math.max(nextSeq, pending.seq + 1);
    } else if (kind === 'A') {
      if (!pending || pending.seq !== body) throw new Error(`ack ${body} without its intent (harness bug)`);
      model.apply(pending);
      r.acknowledgedOps++;
      if (pending.op === 'write' || pending.op === 'transfer') r.acknowledgedWrites++;
      pending = null;
    } else if (kind === 'X') {
      if (pending && pending.seq === body.seq) pending = null;
    }
  };
  const fail = (kill: number, check: string, details: string[]) => {
    r.ok = false;
    let kept: string | null = null;
    if (o.keep) {
      kept = `${base}-failure-${kill}`;
      fs.cpSync(base, kept, { recursive: true });
      fs.writeFileSync(join(kept, 'failure.json'), JSON.stringify({
        kill, check, details, pending, recovery: lastRecovery,
        injected: lastInjected.map((x) => ({ ...x, disk: undefined })), recent,
      }, null, 2));
    }
    r.failures.push({ kill, check, details: details.slice(0, 30), kept });
  };
  const progress = () => o.onProgress?.({ kills: r.kills, total: o.kills, recoveries: r.recoveries, writesVerified: r.acknowledgedWrites, failures: r.failures.length });

  /** Checks the recovered files; resolves the in-flight operation; accounts for injected corruption. */
  const check = (kill: number, report: RecoveryReport | null, injected: Injected[]): boolean => {
    lastRecovery = report;
    lastInjected = injected;
    const segments = segmentsOf(region);
    const v: Verdict = verify(root, model, pending, injected, segments);
    r.bytesVerified += v.bytesVerified;
    if (!v.ok) {
      r.lost += v.lost;
      if (v.torn) r.torn++;
      r.orderViolations += v.orderViolations;
      if (v.corruptionWritten) r.corruptionsWritten++;
      const what = v.corruptionWritten ? 'G5: a damaged buffer reached its file'
        : v.torn ? 'G2: the in-flight operation is torn' : 'G1: acknowledged data is missing';
      fail(kill, what, v.details);
      return false;
    }
    if (o.workload === 'transfer') {
      const totals = transferTotals(root, segments);
      if (!totals.ok) {
        fail(kill, 'the transfers do not balance', totals.details);
        return false;
      }
      r.totalsChecked++;
    }
    if (pending) {
      if (v.applied) {
        model.apply(pending);
        r.inFlightApplied++;
      } else {
        r.inFlightAbsent++;
      }
      pending = null;
    }
    if (injected.length > 0) {
      // The durable evidence: the records in lost+found (a recovery that was
      // killed after quarantining leaves its record, and the next one never sees the buffer).
      const quarantined = quarantineRecords(root, seenRecords);
      void report;
      for (const x of injected) {
        if (quarantined.some((q) => q.file === x.file && q.offset === x.start)) r.corruptionsDetected++;
        else fail(kill, 'G5: a damaged dirty buffer was not quarantined', [`${x.file} @ ${x.start} (buffer ${x.buffer})`]);
        // The block now holds what the disk held: the model follows.
        const tree = readTree(root);
        const actual = tree.get(x.file);
        if (actual) model.adopt(x.file, x.start, actual.subarray(x.start, x.end));
      }
    }
    return r.failures.length === 0;
  };

  /** The warm reboot after a kill: maybe killed itself, by either path; then the check. Returns the running workload, if recovery ran in it. */
  const recover = async (kill: number): Promise<WorkloadRun | null> => {
    const injected: Injected[] = [];
    if (o.corrupt > 0 && random() < o.corrupt) {
      const x = injectCorruption(region, root, pending, random);
      if (x) {
        injected.push(x);
        r.corruptionsInjected++;
      }
    }
    for (let attempt = 0; attempt < 4 && random() < o.killDuringRecovery; attempt++) {
      const rep = inspectRegion(region, { verify: false });
      const stores = 64 + 4 * (rep.buffers.clean + rep.buffers.dirty + rep.buffers.writing) + 12 * (rep.buffers.dirty + rep.buffers.writing);
      const at = Math.floor(random() * stores);
      const res = spawnSync(process.execPath, [recoverScript, region, root, String(at)], { encoding: 'utf8' });
      if (res.signal === 'SIGKILL') {
        r.killsDuringRecovery++;
        continue;
      }
      if (res.status !== 0) {
        r.recoveryFailures++;
        fail(kill, 'recovery failed', [res.stderr.slice(0, 2000)]);
        return null;
      }
      // It finished before reaching the kill point: that was the recovery.
      r.recoveries++;
      r.recoveriesByCli++;
      check(kill, (JSON.parse(res.stdout) as { report: RecoveryReport }).report, injected);
      return null;
    }
    if (random() < 0.5) {
      const res = spawnSync(process.execPath, [cliScript, 'recover', region, '--root', root, '--json'], { encoding: 'utf8' });
      if (res.status !== 0 && res.status !== 1) {
        r.recoveryFailures++;
        fail(kill, 'riocache recover failed', [res.stderr.slice(0, 2000)]);
        return null;
      }
      r.recoveries++;
      r.recoveriesByCli++;
      check(kill, (JSON.parse(res.stdout) as { report: RecoveryReport }).report, injected);
      return null;
    }
    const w = new WorkloadRun(cfgFor(), onMessage);
    const report = await w.opened();
    if (!report) {
      const out = await w.finish();
      r.recoveryFailures++;
      fail(kill, 'the restarted workload died while recovering', [out.stderr.slice(0, 2000)]);
      return null;
    }
    r.recoveries++;
    r.recoveriesByWorkload++;
    if (!check(kill, report, injected)) {
      w.proc.kill('SIGKILL');
      await w.finish();
      return null;
    }
    return w;
  };

  try {
    for (let kill = 0; kill < o.kills && r.ok; kill++) {
      let w: WorkloadRun | null = null;
      if (crashed) {
        w = await recover(kill);
        if (!r.ok) break;
      }
      // A workload that ran the recovery was started without a kill point: it is killed by the timer.
      const byStore = random() < 0.5 && w === null;
      if (w === null) {
        const at = byStore ? 200 + Math.floor(random() * 6000) : undefined;
        w = new WorkloadRun(cfgFor(at), onMessage);
        const rep = await w.opened();
        if (!rep) {
          const out = await w.finish();
          if (out.signal === 'SIGKILL') { // killed itself at its store before the workload began
            r.kills++;
            r.killsAtStore++;
            crashed = true;
            progress();
            continue;
          }
          r.workloadFailures++;
          fail(kill, 'the workload died at open', [out.stderr.slice(0, 2000)]);
          break;
        }
        if (rep.ran) {
          // A clean open must not need recovery: the last run was recovered and closed by `recover`.
          fail(kill, 'a recovered region needed recovery again', [JSON.stringify(rep.problems)]);
          break;
        }
      }
      const delay = o.runMs![0] + random() * (o.runMs![1] - o.runMs![0]);
      w.go();
      // A store kill that has not come within 2 s (a slow workload) is made by the timer instead.
      let timed = false;
      const timer = setTimeout(() => {
        timed = true;
        w!.proc.kill('SIGKILL');
      }, byStore ? 2000 : delay);
      const out = await w.finish();
      clearTimeout(timer);
      if (out.signal !== 'SIGKILL') {
        r.workloadFailures++;
        fail(kill, `the workload exited by itself (code ${out.code})`, [out.stderr.slice(0, 3000)]);
        break;
      }
      r.kills++;
      if (timed) r.killsByTimer++;
      else r.killsAtStore++;
      crashed = true;
      progress();
    }
    if (r.ok && crashed) {
      // The final reboot, never killed, and the final check.
      const res = spawnSync(process.execPath, [cliScript, 'recover', region, '--root', root, '--json'], { encoding: 'utf8' });
      if (res.status !== 0) {
        r.recoveryFailures++;
        fail(r.kills, 'the final recovery failed', [res.stderr.slice(0, 2000)]);
      } else {
        r.recoveries++;
        r.recoveriesByCli++;
        check(r.kills, (JSON.parse(res.stdout) as { report: RecoveryReport }).report, []);
      }
    }
  } finally {
    r.durationMs = Date.now() - started;
    fs.rmSync(base, { recursive: true, force: true });
  }
  return r;
}
