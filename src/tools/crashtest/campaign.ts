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
import { invalidType, invalidValue, outOfRange } from '../../errors';
import { checkInteger, checkNumber, formatBytes, isPowerOfTwo, parseBytes } from '../../options';
import { LOST_AND_FOUND, type QuarantineRecord } from '../../recovery/quarantine';
import type { RecoveryReport } from '../../recovery/report';
import { inspectRegion } from '../inspect/inspect';
import type { ChildConfig } from './child';
import { injectCorruption, type Injected } from './corrupt';
import { Model, verify, verdictLabel, readTree, type Verdict } from './oracle';
import { LineReader, type OpRecord } from './protocol';
import { mulberry } from './random';
import { chooseHeader } from '../../region/header';
import { BLOCK_BYTES_MAX, BLOCK_BYTES_MIN, BUFFER_COUNT_MIN, PAGE_BYTES, REGION_BYTES_MIN, SEGMENT_DIRECTORY_ENTRIES, SEGMENT_ENTRY_BYTES } from '../../region/format';
import { computeGeometry } from '../../region/geometry';
import { validateOptions } from '../../cache/open';
import { Segments } from '../../cache/segments';
import { readOnlyMemory } from '../inspect/inspect';
import { ACCOUNT_FILES, ACCOUNTS_PER_FILE, BALANCES_SEGMENT, builtins, OPENING_BALANCE } from './workloads';

/**
 * A campaign's options. `runCampaign()` takes any subset; the defaults are
 * the library's, and two differ from `riocache crashtest`'s: `kills` (60 here,
 * 400 on the command line) and `seed` (1 here, drawn at random and printed on
 * the command line).
 */
export interface CampaignOptions {
  /** Number of SIGKILLs of the workload, 1 to 10,000,000. Default 60 (the CLI's: 400). */
  kills: number;
  /** 0 to 2^31-1. Default 1 (the CLI draws one at random and prints it). */
  seed: number;
  /** A built-in workload (append, overwrite, mixed, pressure, transfer, names) or the path of a module exporting one. Default 'mixed'. */
  workload: string;
  /** Region size: bytes or a string like '4MiB'. Default: the built-in workload's, 4MiB for a module. */
  regionSize?: string;
  /** A power of two from 512 to 1 MiB. Default 4096. */
  blockSize?: number;
  /** Segment area of the region (for `cache.segment()`): 0, or a multiple of 4096 above 4096. Default: the built-in workload's, else 0. */
  segmentAreaSize?: string | number;
  /** Probability that a recovery is itself killed (and run again). Default 0.2. */
  killDuringRecovery: number;
  /** Probability that a dirty buffer is damaged between a kill and the restart. Default 0. */
  corrupt: number;
  /** Keep the directory of a failing case. Default false. */
  keep: boolean;
  /** Where to work (a fresh directory is made inside). Default: /dev/shm or the temp directory. */
  dir?: string;
  /** Range of the time the workload runs before a timed kill, in ms. Default [5, 100]. */
  runMs?: [number, number];
  onProgress?: (p: CampaignProgress) => void;
}

export interface CampaignProgress {
  /** Kills done so far. */
  kills: number;
  /** Kills asked for. */
  total: number;
  recoveries: number;
  /** Acknowledged writes (and transfers) so far: what the oracle holds the files to. */
  acknowledgedWrites: number;
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
  /** Checks that found a file, or bytes past a file's end, that no announced operation explains. */
  unexpected: number;
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

export const RUN_MS_DEFAULT: [number, number] = [5, 100];
/** Longest timed-kill delay accepted, in ms (a store kill that has not come in 2 s is timed anyway). */
const RUN_MS_MAX = 3_600_000;
/** Where the search for the smallest region that fits gives up. */
const REGION_SEARCH_BYTES_MAX = 64 * 1024 * 1024;

/** Why `openCacheSync` would refuse to create this region (null: it would create it). */
function regionProblem(size: string | number, blockSize: number, segmentAreaSize: string | number): Error | null {
  try {
    computeGeometry(validateOptions({ region: 'region.rio', root: '.', size, blockSize, segmentAreaSize }).request);
    return null;
  } catch (err) {
    return err as Error;
  }
}

/**
 * Would the workload's `openCacheSync` create this region? The same options
 * and the same computation, so that a bad size is refused here, naming the
 * campaign's option, rather than when the first workload process dies at open.
 */
function checkRegion(regionSize: string, blockBytes: number, segmentAreaSize: string | number): void {
  const regionBytes = parseBytes('regionSize', regionSize);
  const segmentAreaBytes = parseBytes('segmentAreaSize', segmentAreaSize);
  const segmentMin = SEGMENT_DIRECTORY_ENTRIES * SEGMENT_ENTRY_BYTES;
  if (segmentAreaBytes !== 0 && (segmentAreaBytes % PAGE_BYTES !== 0 || segmentAreaBytes <= segmentMin)) {
    throw outOfRange('segmentAreaSize', `0 or a multiple of ${PAGE_BYTES} above ${segmentMin}`, segmentAreaSize);
  }
  const problem = regionProblem(regionBytes, blockBytes, segmentAreaBytes);
  if (problem === null) return;
  // The smallest size that fits, in pages (bounded: 8 blocks of 1 MiB and their metadata fit well below the bound).
  let least = REGION_BYTES_MIN;
  while (least <= REGION_SEARCH_BYTES_MAX && regionProblem(least, blockBytes, segmentAreaBytes) !== null) least += PAGE_BYTES;
  if (least > REGION_SEARCH_BYTES_MAX || regionBytes >= least) throw problem; // not a matter of size
  throw outOfRange('regionSize', `at least ${formatBytes(least)} with blocks of ${blockBytes} bytes` +
    `${segmentAreaBytes ? ` and a segment area of ${formatBytes(segmentAreaBytes)}` : ''} ` +
    `(the region's metadata, then ${BUFFER_COUNT_MIN} blocks)`, regionSize);
}

function checkRunMs(runMs: unknown): [number, number] {
  if (!Array.isArray(runMs) || runMs.length !== 2 || !runMs.every((n) => typeof n === 'number' && Number.isFinite(n))) {
    throw invalidType('runMs', 'an array of two numbers [min, max]', runMs);
  }
  if (runMs[0] < 0 || runMs[1] < runMs[0] || runMs[1] > RUN_MS_MAX) {
    throw outOfRange('runMs', `a range [min, max] with 0 <= min <= max <= ${RUN_MS_MAX}`, runMs.join(','));
  }
  return [runMs[0], runMs[1]];
}

export function validateCampaign(o: Partial<CampaignOptions>): CampaignOptions {
  const kills = checkInteger('kills', o.kills ?? 60, 1, 10_000_000);
  const seed = checkInteger('seed', o.seed ?? 1, 0, 2 ** 31 - 1);
  const workload = o.workload ?? 'mixed';
  if (typeof workload !== 'string' || (!builtins[workload] && !fs.existsSync(workload))) {
    throw invalidValue('workload', `must be one of ${Object.keys(builtins).join(', ')} or the path of a module`, workload);
  }
  const regionSize = o.regionSize ?? builtins[workload]?.regionSize ?? '4MiB';
  const blockSize = checkInteger('blockSize', o.blockSize ?? 4096, BLOCK_BYTES_MIN, BLOCK_BYTES_MAX);
  if (!isPowerOfTwo(blockSize)) throw invalidValue('blockSize', `must be a power of two from ${BLOCK_BYTES_MIN} to ${BLOCK_BYTES_MAX}`, blockSize);
  const segmentAreaSize = o.segmentAreaSize ?? builtins[workload]?.segmentAreaSize ?? '0';
  checkRegion(regionSize, blockSize, segmentAreaSize);
  const killDuringRecovery = checkNumber('killDuringRecovery', o.killDuringRecovery ?? 0.2, 0, 1);
  const corrupt = checkNumber('corrupt', o.corrupt ?? 0, 0, 1);
  if (corrupt > 0 && workload === 'transfer') {
    throw invalidValue('corrupt', 'must be 0 for the transfer workload (a quarantined block breaks the totals by design)', corrupt);
  }
  const runMs = checkRunMs(o.runMs ?? RUN_MS_DEFAULT);
  return {
    kills, seed, workload, regionSize, blockSize, segmentAreaSize: String(segmentAreaSize), killDuringRecovery, corrupt,
    keep: o.keep ?? false, dir: o.dir, runMs, onProgress: o.onProgress,
  };
}

/** A word of a shell command line, quoted when it needs to be. */
function shellWord(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/** The command that runs this campaign again: every option that changes the run, and --keep. */
export function replayCommand(o: CampaignOptions): string {
  const args = ['--workload', o.workload, '--seed', String(o.seed), '--kills', String(o.kills),
    '--kill-during-recovery', String(o.killDuringRecovery), '--corrupt', String(o.corrupt), '--region-size', String(o.regionSize),
    '--block-size', String(o.blockSize), '--segment-area-size', String(o.segmentAreaSize)];
  const runMs = o.runMs ?? RUN_MS_DEFAULT;
  if (runMs[0] !== RUN_MS_DEFAULT[0] || runMs[1] !== RUN_MS_DEFAULT[1]) args.push('--run-ms', `${runMs[0]},${runMs[1]}`);
  if (o.dir !== undefined) args.push('--dir', o.dir);
  return ['riocache crashtest', ...args.map(shellWord), '--keep'].join(' ');
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

/** A message the oracle cannot follow: the workload broke the protocol of context.ts. */
class ProtocolError extends Error {}

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
  /** Set when the workload broke the protocol (its messages are ignored from then on, and it is killed). */
  protocolError: string | null = null;
  private onRecovered: ((r: RecoveryReport) => void) | null = null;
  private closed: Promise<void>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  constructor(cfg: ChildConfig, private readonly onMessage: (kind: string, body: any) => void) {
    this.proc = spawn(process.execPath, [childScript, JSON.stringify(cfg)], { stdio: ['pipe', 'ignore', 'pipe', 'pipe'] });
    const records = this.proc.stdio[3] as NodeJS.ReadableStream;
    records.setEncoding('utf8');
    this.closed = new Promise((res) => records.on('close', () => res()));
    records.on('data', (chunk: string) => {
      if (this.protocolError !== null) return;
      // Nothing may throw out of this handler (it would kill the campaign with no report): a bad message is the workload's failure.
      try {
        for (const m of this.reader.feed(chunk)) {
          if (m.kind === 'R') {
            this.recovery = m.body;
            this.onRecovered?.(m.body);
          } else {
            this.onMessage(m.kind, m.body);
          }
        }
      } catch (err) {
        this.protocolError = err instanceof ProtocolError ? err.message : `a message the harness could not use: ${(err as Error).message}`;
        this.proc.kill('SIGKILL');
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
    bytesVerified: 0, lost: 0, torn: 0, orderViolations: 0, unexpected: 0, corruptionsWritten: 0, recoveryFailures: 0, workloadFailures: 0,
    corruptionsInjected: 0, corruptionsDetected: 0, totalsChecked: 0, durationMs: 0, failures: [], replay: replayCommand(o), ok: true,
  };
  const model = new Model(o.seed);
  const seenRecords = new Set<string>();
  let pending: OpRecord | null = null;
  let nextSeq = 0;
  let crashed = false;
  let run = 0;
  const segmentAreaSize = parseBytes('segmentAreaSize', o.segmentAreaSize ?? '0') > 0 ? String(o.segmentAreaSize) : undefined;
  const cfgFor = (killAtStore?: number): ChildConfig => ({
    region, root, size: o.regionSize!, blockSize: o.blockSize!, workload: o.workload, seed: o.seed, run: run++, firstSeq: nextSeq,
    ...(segmentAreaSize ? { segmentAreaSize } : {}),
    ...(killAtStore === undefined ? {} : { killAtStore }),
  });
  // The last operations, for the record a kept failure leaves behind.
  const recent: Array<{ kind: string; body: unknown }> = [];
  let lastRecovery: RecoveryReport | null = null;
  let lastInjected: Injected[] = [];
  /**
   * One message of the workload. A message that breaks the protocol (one
   * change in flight at a time, each acknowledged or refused by its number)
   * throws a ProtocolError: the WorkloadRun catches it, kills the workload and
   * the campaign reports it, since the oracle cannot follow such a run.
   */
  const onMessage = (kind: string, body: any) => {
    recent.push({ kind, body: kind === 'I' ? { ...body, data: undefined } : body });
    if (recent.length > 500) recent.shift();
    const seqOf = (b: any) => (typeof b === 'number' ? b : b?.seq);
    if (kind === 'I') {
      if (typeof body?.seq !== 'number' || typeof body?.op !== 'string') throw new ProtocolError(`an intent without op or seq: ${JSON.stringify(body)}`);
      if (pending) {
        throw new ProtocolError(`intent #${body.seq} (${body.op}) while #${pending.seq} (${pending.op}) is still unacknowledged: ` +
          'the harness checks one change in flight at a time');
      }
      pending = body as OpRecord;
      nextSeq = Math.max(nextSeq, pending.seq + 1);
    } else if (kind === 'A') {
      if (!pending || pending.seq !== body) {
        throw new ProtocolError(`ack #${body} ${pending ? `while #${pending.seq} is in flight` : 'with no change in flight'}`);
      }
      model.apply(pending);
      r.acknowledgedOps++;
      if (pending.op === 'write' || pending.op === 'transfer') r.acknowledgedWrites++;
      pending = null;
    } else if (kind === 'X') {
      if (!pending || pending.seq !== seqOf(body)) {
        throw new ProtocolError(`refusal of #${seqOf(body)} ${pending ? `while #${pending.seq} is in flight` : 'with no change in flight'}`);
      }
      pending = null;
    } else {
      throw new ProtocolError(`unknown message kind ${JSON.stringify(kind)}`);
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
  /** A workload that broke the protocol: its failure, with the last messages it sent. */
  const protocolFailure = (kill: number, error: string, stderr: string) => {
    r.workloadFailures++;
    const last = recent.slice(-6).map((m) => `${m.kind} ${JSON.stringify(m.body)}`);
    fail(kill, `the workload broke the harness protocol: ${error}`, [...(stderr ? [stderr.slice(0, 2000)] : []), 'last messages:', ...last]);
  };
  const progress = () => o.onProgress?.({
    kills: r.kills, total: o.kills, recoveries: r.recoveries, acknowledgedWrites: r.acknowledgedWrites, failures: r.failures.length,
  });

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
      if (v.unexpected > 0) r.unexpected++;
      if (v.corruptionWritten) r.corruptionsWritten++;
      fail(kill, verdictLabel(v), v.details);
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
      if (w.protocolError !== null) {
        protocolFailure(kill, w.protocolError, out.stderr);
        return null;
      }
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
          if (w.protocolError !== null) {
            protocolFailure(kill, w.protocolError, out.stderr);
            break;
          }
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
      if (w.protocolError !== null) {
        protocolFailure(kill, w.protocolError, out.stderr);
        break;
      }
      if (out.signal !== 'SIGKILL') {
        r.workloadFailures++;
        const thrown = /^workload failed: (.*)$/m.exec(out.stderr)?.[1];
        fail(kill, thrown ? `the workload failed: ${thrown}` : `the workload exited by itself (code ${out.code})`, [out.stderr.slice(0, 3000)]);
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
