/** The report: targets met or missed, the tables, the recovery figures, and the SVG plots. */
import * as fs from 'node:fs';
import * as os from 'node:os';
import { markdownTable, formatDuration, formatNumber } from '../../src/tools/term';
import { svgChart, type Series } from '../../src/tools/plot';
import { CLEAN_OPEN_MS_MAX, targets, VERIFY_BYTES_PER_S_MIN, type RatioTarget, type Target } from '../targets';
import type { ContenderResult, Spread, TrialResult } from './aggregate';
import { QUANTILES } from './aggregate';
import type { RecoveryResults } from './recoveryRunner';
import { median } from './stats';

export interface Machine {
  cpu: string;
  cores: number;
  memoryGiB: number;
  node: string;
  kernel: string;
  diskFs: string;
  shmFs: string;
}

function fsTypeOf(path: string): string {
  try {
    const mounts = fs.readFileSync('/proc/mounts', 'utf8').split('\n').map((l) => l.split(' ')).filter((f) => f.length > 2);
    let best = ['', '/', '?'];
    for (const m of mounts) if (path.startsWith(m[1]) && m[1].length >= best[1].length) best = m;
    return best[2];
  } catch {
    return '?';
  }
}

export function machine(diskDir: string, shmDir: string): Machine {
  let cpu = os.cpus()[0]?.model ?? '?';
  try {
    cpu = /model name\s*:\s*(.*)/.exec(fs.readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? cpu;
  } catch {
    /* not Linux */
  }
  return {
    cpu, cores: os.cpus().length, memoryGiB: Math.round(os.totalmem() / 1024 ** 3), node: process.version,
    kernel: `${os.type()} ${os.release()}`, diskFs: `${diskDir} (${fsTypeOf(diskDir)})`, shmFs: `${shmDir} (${fsTypeOf(shmDir)})`,
  };
}

export interface TargetVerdict {
  id: string;
  text: string;
  measured: string;
  met: boolean | null;
  /**
   * For a 'faster' target: the speed-up over the peer that a cache costing
   * nothing beyond the bare copy would reach on this machine (peer ÷ floor,
   * per repetition, median).
   */
  ceiling?: number;
}

const times = (x: number) => (x >= 100 ? `${x.toFixed(0)}×` : x >= 10 ? `${x.toFixed(1)}×` : `${x.toFixed(2)}×`);

function ratioVerdict(t: RatioTarget, trials: TrialResult[]): TargetVerdict {
  const trial = trials.find((x) => x.id === t.trial);
  const peer = trial?.contenders.find((c) => c.id === t.peer);
  const rio = trial?.contenders.find((c) => c.id === t.rio);
  const r = t.rio === 'rio.sync' ? peer?.ratioSync : peer?.ratioPromise;
  if (!trial || !peer || !rio || !r) return { id: t.id, text: t.text, measured: 'not run', met: null };
  const ns = `${formatDuration(rio.ns.median)} vs ${formatDuration(peer.ns.median)}`;
  if (t.need === 'everyRep') {
    // The slowest repetition decides: r.max is the largest riocache/peer time ratio.
    const worst = 1 / r.max;
    return {
      id: t.id, text: t.text, met: worst >= t.factor,
      measured: `${times(1 / r.median)} the speed of ${t.peer} (${ns}; repetitions ${times(worst)}–${times(1 / r.min)})`,
    };
  }
  if (t.need === 'faster') {
    const speedup = 1 / r.median;
    const floor = trial.contenders.find((c) => c.id === 'floor');
    const floorByRep = new Map(floor?.runs.map((p) => [p.rep, p.q[QUANTILES.indexOf(0.5)]]) ?? []);
    const ceilings = peer.runs.filter((p) => floorByRep.has(p.rep)).map((p) => p.q[QUANTILES.indexOf(0.5)] / floorByRep.get(p.rep)!);
    return {
      id: t.id, text: t.text, met: speedup >= t.factor, ceiling: ceilings.length > 0 ? median(ceilings) : undefined,
      measured: `${times(speedup)} faster (${ns}; repetitions ${times(1 / r.max)}–${times(1 / r.min)})`,
    };
  }
  return {
    id: t.id, text: t.text, met: r.median <= t.factor,
    measured: `${times(r.median)} the floor's time (${ns}; repetitions ${times(r.min)}–${times(r.max)})`,
  };
}

export function verdicts(trials: TrialResult[], rec: RecoveryResults | null): TargetVerdict[] {
  return targets.map((t: Target): TargetVerdict => {
    if (t.kind === 'ratio') return ratioVerdict(t, trials);
    if (t.kind === 'elsewhere') return { id: t.id, text: t.text, measured: t.where, met: null };
    if (!rec) return { id: t.id, text: t.text, measured: 'not run', met: null };
    if (t.check === 'verify-rate') {
      const v = rec.verify;
      const range = (ps: Array<{ gbps: number }>) =>
        `${Math.min(...ps.map((p) => p.gbps)).toFixed(2)}–${Math.max(...ps.map((p) => p.gbps)).toFixed(2)} GB/s`;
      return {
        id: t.id, text: t.text, met: v.gbps * 1e9 >= VERIFY_BYTES_PER_S_MIN,
        measured: `checksum verification ${v.gbps.toFixed(1)} GB/s (median of ${v.runs} profiled recoveries, ` +
          `${v.gbpsMin.toFixed(1)}–${v.gbpsMax.toFixed(1)}); ` +
          `the whole warm reboot ${range(rec.shmDirty)} with files in tmpfs, ${range(rec.diskDirty)} with files on the disk`,
      };
    }
    if (t.check === 'clean-open') {
      if (rec.clean.length === 0) return { id: t.id, text: t.text, measured: 'no clean open in this run', met: null };
      return {
        id: t.id, text: t.text, met: rec.clean.every((c) => c.medianMs < CLEAN_OPEN_MS_MAX),
        measured: rec.clean.map((c) => `${mibOf(c.regionBytes)}: ${c.medianMs.toFixed(1)} ms`).join(', '),
      };
    }
    return { id: t.id, text: t.text, met: rec.linear.met, measured: rec.linear.why };
  });
}

const mark = (met: boolean | null) => (met === null ? '—' : met ? '**met**' : '**missed**');

function fmtRatio(r: Spread | undefined): string {
  if (!r) return '';
  return `${formatNumber(r.median)} (${formatNumber(r.min)}–${formatNumber(r.max)})`;
}

function trialTable(t: TrialResult): string {
  const mb = t.unit === 'MB/s';
  const headers = mb
    ? ['contender', 'MB/s', 'repetitions', 'per write (mean)', 'riocache sync / this (time)', 'riocache promise / this (time)']
    : ['contender', 'median', 'p25–p75', 'repetitions', 'riocache sync / this (time)', 'riocache promise / this (time)'];
  const rows = t.contenders.map((c: ContenderResult) => c.runs.length === 0
    ? [c.label, `**failed** (${c.failedReps} of ${c.failedReps} repetitions): ${c.failure ?? ''}`, '', '', '', '']
    : mb
    ? [c.label, formatNumber(c.mbps!.median), `${formatNumber(c.mbps!.min)}–${formatNumber(c.mbps!.max)}`, formatDuration(c.ns.median),
      fmtRatio(c.ratioSync), fmtRatio(c.ratioPromise)]
    : [c.label, formatDuration(c.ns.median), `${formatDuration(c.p25)}–${formatDuration(c.p75)}`,
      `${formatDuration(c.ns.min)}–${formatDuration(c.ns.max)}`, fmtRatio(c.ratioSync), fmtRatio(c.ratioPromise)]);
  const partial = t.contenders.filter((c) => c.runs.length > 0 && c.failedReps > 0)
    .map((c) => `${c.label} failed in ${c.failedReps} repetition(s): ${c.failure}`);
  return [markdownTable(headers, rows), ...partial.map((p) => `\n${p}`)].join('\n');
}

function workloadLine(t: TrialResult): string {
  const w = t.workload;
  const mib = (b: number) => `${+(b / 2 ** 20).toFixed(2)} MiB`;
  const parts = [`${w.opBytes >= 1024 ? `${w.opBytes / 1024} KiB` : `${w.opBytes} B`} per op`, `file ${mib(w.fileBytes)}`,
    `riocache region ${mib(w.cacheBytes)}`, `positions: ${w.positions}`, `prefill: ${w.prefill}`];
  if (w.readShare !== undefined) parts.push(`${w.readShare * 100}% reads`);
  if (w.resetBytes !== undefined) parts.push(`emptied every ${mib(w.resetBytes)}`);
  return parts.join('; ');
}

function infoLine(t: TrialResult): string {
  const rio = t.contenders.filter((c) => c.family === 'riocache');
  const parts = rio.map((c) => {
    const i = c.runs[0]?.info ?? {};
    const bits = [Number.isFinite(i.hitRatio) ? `hit ratio ${formatNumber(i.hitRatio)}` : 'no reads'];
    if (i.writeBackBytes) bits.push(`${formatNumber(i.writeBackBytes / 2 ** 20)} MiB written back`);
    if (i.backPressureSync) bits.push(`${i.backPressureSync} sync back-pressure stalls`);
    if (i.evictions) bits.push(`${i.evictions} evictions`);
    if (i.fdatasyncs) bits.push(`${i.fdatasyncs} fdatasyncs`);
    return `${c.id}: ${bits.join(', ')}`;
  });
  return parts.length > 0 ? `riocache counters during the measured window (first repetition): ${parts.join('; ')}.` : '';
}

export interface ReportInput {
  startedAt: string;
  command: string;
  quick: boolean;
  reps: number;
  settings: Record<string, number>;
  machine: Machine;
  trials: TrialResult[];
  recovery: RecoveryResults | null;
  durationS: number;
}

const mibOf = (b: number) => (b >= 2 ** 30 ? `${+(b / 2 ** 30).toFixed(2)} GiB` : `${+(b / 2 ** 20).toFixed(1)} MiB`);

export function markdownReport(r: ReportInput): string {
  const out: string[] = [];
  const m = r.machine;
  out.push(`# riocache benchmarks${r.quick ? ' (quick smoke run: sizes and windows too small to quote)' : ''}`, '');
  out.push(`Run ${r.startedAt}, ${r.durationS.toFixed(0)} s: \`${r.command}\`. ${r.reps} repetition(s) of every trial, each contender ` +
    'in a fresh process, contender order rotated between repetitions.', '');
  out.push(`Machine: ${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB RAM; ${m.kernel}; Node ${m.node}; files on ${m.diskFs}, ` +
    `regions on ${m.shmFs}. The machine is shared: absolute figures move between runs, ratios measured side by side are what to read.`, '');
  out.push('## Targets (../shared/DESIGN.md)', '');
  out.push(markdownTable(['target', 'measured', 'verdict', 'ceiling'], verdicts(r.trials, r.recovery).map((v) => [
    v.text, v.measured, mark(v.met), v.ceiling === undefined ? '' : `${times(v.ceiling)} faster`,
  ])), '');
  out.push('Ceiling: the speed-up a cache that cost nothing beyond the bare copy (the floor) would have over the same peer in the ' +
    'same run — the most any implementation could show on this machine and working set.', '');
  const head = r.trials.filter((t) => ['overwrite-4k', 'overwrite-4k-hot', 'append-100b', 'read-hit-4k', 'read-hit-4k-hot'].includes(t.id));
  if (head.length > 0) {
    out.push('## First benchmark: riocache against fs and a bare copy', '');
    const rows = head.map((t) => {
      const rio = t.contenders.find((c) => c.id === 'rio.sync');
      const fsc = t.contenders.find((c) => c.id === 'fs.sync');
      const floor = t.contenders.find((c) => c.id === 'floor');
      return [t.title, rio ? formatDuration(rio.ns.median) : '', fsc ? formatDuration(fsc.ns.median) : '',
        fsc?.ratioSync ? times(1 / fsc.ratioSync.median) : '', floor ? formatDuration(floor.ns.median) : '',
        floor?.ratioSync ? times(floor.ratioSync.median) : ''];
    });
    out.push(markdownTable(['operation', 'riocache (sync)', 'fs (sync)', 'riocache speed-up over fs', 'bare copy', 'riocache time / bare copy'], rows), '');
  }
  out.push('## Trials', '');
  out.push('Times are per operation. "median" is the median over repetitions of each process\'s median batch; p25–p75 the ' +
    'typical spread inside a process; "repetitions" the range of the per-repetition medians. Ratio columns: riocache\'s time ' +
    'divided by this contender\'s, formed per repetition, median (min–max): below 1 riocache is faster.', '');
  for (const t of r.trials) {
    out.push(`### ${t.title} (\`${t.id}\`)`, '', `${t.description}. ${workloadLine(t)}.`, '', trialTable(t), '');
    const info = infoLine(t);
    if (info) out.push(info, '');
    out.push(`![${t.id}](${t.id}.svg)`, '');
  }
  if (r.recovery) out.push(...recoverySection(r.recovery));
  out.push('## Settings', '', '```json', JSON.stringify(r.settings), '```', '');
  return out.join('\n');
}

function dirtyTable(points: RecoveryResults['diskDirty']): string {
  return markdownTable(['dirty', 'recovery (median)', 'open (median)', 'GB/s', 'repetitions'], points.map((p) => [
    mibOf(p.dirtyBytes), `${p.medianMs.toFixed(1)} ms`, `${p.medianWallMs.toFixed(1)} ms`, p.gbps.toFixed(3),
    p.runs.map((x) => x.durationMs.toFixed(0)).join(', ') + ' ms',
  ]));
}

const fitLine = (f: RecoveryResults['fit']) =>
  `${f.interceptMs.toFixed(1)} ms + ${(f.slopeMsPerGiB / 1000).toFixed(3)} s per dirty GiB, R² = ${f.r2.toFixed(4)} (least squares over the medians)`;

function recoverySection(rec: RecoveryResults): string[] {
  const out: string[] = [];
  out.push('## Recovery', '');
  out.push('Warm reboot after SIGKILL: dirty data written through riocache with write-back off, the writer killed, then ' +
    '`openCacheSync` timed in a fresh process ("recovery" is `cache.recovery.durationMs`, "open" the whole call). The reboot ' +
    'verifies every dirty buffer, writes it to its file and fdatasyncs the file. ' +
    `${rec.plan.reps} repetition(s); the first repetition of each dirty series ran under the sampling profiler (500 µs), ` +
    'for the verification rate. Regions are sparse, in tmpfs.', '');
  out.push(`### Against dirty bytes, files in tmpfs (riocache's own work; region ${mibOf(rec.plan.dirtyRegionBytes)})`, '');
  out.push(dirtyTable(rec.shmDirty), '', `Fit: ${fitLine(rec.fit)}.`, '');
  out.push(`### Against dirty bytes, files on the disk (what a service waits for; region ${mibOf(rec.plan.dirtyRegionBytes)})`, '');
  out.push(dirtyTable(rec.diskDirty), '', `Fit: ${fitLine(rec.diskFit)}.`, '');
  out.push(`### Against region size (${mibOf(rec.plan.fixedDirtyBytes)} dirty, files in tmpfs)`, '');
  out.push(markdownTable(['region', 'recovery (median)', 'open (median)', 'repetitions'], rec.region.map((p) => [
    mibOf(p.regionBytes), `${p.medianMs.toFixed(1)} ms`, `${p.medianWallMs.toFixed(1)} ms`,
    p.runs.map((x) => x.durationMs.toFixed(0)).join(', ') + ' ms',
  ])), '');
  out.push(`Slope: ${rec.regionSlopeMsPerGiB.toFixed(1)} ms per GiB of region.`, '');
  out.push('### Clean open against region size (sparse, closed cleanly)', '');
  out.push(markdownTable(['region', 'open (median)', 'repetitions'], rec.clean.map((c) => [
    mibOf(c.regionBytes), `${c.medianMs.toFixed(1)} ms`, c.wallMs.map((x) => x.toFixed(1)).join(', ') + ' ms',
  ])), '');
  out.push(`Slope: ${rec.cleanSlopeMsPerGiB.toFixed(1)} ms per GiB of region.`, '');
  const v = rec.verify;
  out.push('### Where a warm reboot spends its time (CPU profiles of the first repetition)', '');
  out.push(`${mibOf(v.bytes)} verified and written in ${v.runs} profiled recoveries: crc32c verification ${v.verifyMs.toFixed(0)} ms ` +
    `(per recovery ${v.gbpsMin.toFixed(1)}–${v.gbpsMax.toFixed(1)} GB/s, median ${v.gbps.toFixed(1)}), ` +
    `writing the buffers (writev of runs) ${v.pwriteMs.toFixed(0)} ms, fdatasync ${v.fdatasyncMs.toFixed(0)} ms, of ${v.sampledMs.toFixed(0)} ms sampled.`, '');
  out.push('Largest recovery:', '', '```', rec.recoveryProfile, '```', '');
  out.push(`Clean open of the largest region (${mibOf(rec.plan.cleanSizes[rec.plan.cleanSizes.length - 1])}):`, '', '```', rec.cleanOpenProfile, '```', '');
  out.push('![recovery time against dirty bytes](recovery-scaling.svg)', '', '![open time against region size](region-scaling.svg)', '');
  return out;
}

// ---------------------------------------------------------------- plots

/** Enough distinct colours for the largest trial (13 contenders): riocache in blues, fs in greens, lmdb in reds. */
const COLORS: Record<string, string> = {
  'rio.sync': '#08306b', 'rio.promise': '#2171b5', 'rio.sync+fdatasync(rio)': '#6baed6', 'rio.sync+fdatasync(disk)': '#17becf',
  'fs.sync': '#006d2c', 'fs.sync+fdatasync': '#74c476', 'fs.promise': '#bcbd22',
  'lmdb.putSync': '#a50f15', 'lmdb.putSync(nosync)': '#ef3b2c', 'lmdb.put': '#fc9272', 'lmdb.put(nosync)': '#e377c2', 'lmdb.get': '#ef3b2c',
  map: '#ff7f0e', floor: '#7f7f7f', 'floor+crc': '#bdbdbd', 'floor+crc+copy': '#525252',
};

export function trialSvg(t: TrialResult): string {
  const series: Series[] = t.contenders.map((c) => ({
    // Ids, not labels: the legend has three columns of about 40 characters (the tables give the labels).
    name: c.id, points: QUANTILES.map((q, i): [number, number] => [q * 100, c.q[i]]), color: COLORS[c.id],
  }));
  return svgChart({
    title: `${t.title}: time per operation by percentile of batches`, xLabel: 'percentile of batch samples',
    yLabel: 'time per operation (ns, log)', series, yLog: true, xFormat: (x) => `p${x}`, yFormat: (y) => formatDuration(y),
  }, 960, 560);
}

const escapeXml = (t: string) => t.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/**
 * The overview: one group of bars per trial (the trials are unrelated
 * operations, so nothing joins them), one bar per contender in the same
 * order and colour in every group, on a log time axis with each bar's value
 * written above it.
 */
export function overviewSvg(trials: TrialResult[]): string {
  const ids = ['rio.sync', 'rio.promise', 'fs.sync', 'fs.promise', 'lmdb.putSync(nosync)', 'map', 'floor', 'floor+crc', 'floor+crc+copy'];
  const name = (id: string) => (id === 'lmdb.putSync(nosync)' ? 'lmdb (noSync; reads: get)' : id);
  const short = (id: string) => ({
    'overwrite-4k': 'overwrite 4 KiB', 'overwrite-4k-hot': 'overwrite 4 KiB, hot', 'append-100b': 'append 100 B',
    'read-hit-4k': 'read hit 4 KiB', 'read-hit-4k-hot': 'read hit 4 KiB, hot', 'read-miss-4k': 'read miss 4 KiB',
    'mix-70-30': 'mix 70/30', 'sequential-4k': 'sequential 4 KiB', 'sequential-64k': 'sequential 64 KiB',
    'write-miss-4k': 'write miss 4 KiB',
  } as Record<string, string>)[id] ?? id;
  const valueOf = (t: TrialResult, id: string): number | undefined => {
    const c = t.contenders.find((x) => x.id === id) ?? (id === 'lmdb.putSync(nosync)' ? t.contenders.find((x) => x.id === 'lmdb.get') : undefined);
    return c && Number.isFinite(c.ns.median) && c.ns.median > 0 ? c.ns.median : undefined;
  };
  const shown = trials.filter((t) => t.unit === 'ns/op' && ids.some((id) => valueOf(t, id) !== undefined));
  const present = ids.filter((id) => shown.some((t) => valueOf(t, id) !== undefined));
  const width = Math.max(720, 90 + shown.length * (present.length * 16 + 36));
  const height = 560;
  const m = { left: 72, right: 20, top: 40, bottom: 80 + 18 * Math.ceil(present.length / 4) };
  const values = shown.flatMap((t) => present.map((id) => valueOf(t, id)).filter((v): v is number => v !== undefined));
  const lo = Math.pow(10, Math.floor(Math.log10(Math.min(...values, 10))));
  const hi = Math.pow(10, Math.ceil(Math.log10(Math.max(...values, 100))));
  const y = (v: number) => height - m.bottom - ((Math.log10(v) - Math.log10(lo)) / (Math.log10(hi) - Math.log10(lo))) * (height - m.bottom - m.top);
  const groupW = (width - m.left - m.right) / Math.max(1, shown.length);
  const barW = Math.min(16, (groupW - 24) / Math.max(1, present.length));
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`);
  out.push(`<rect width="${width}" height="${height}" fill="white"/>`);
  out.push(`<text x="${width / 2}" y="22" text-anchor="middle" font-size="15">Median time per operation, by trial (log scale; shorter is faster)</text>`);
  for (let e = Math.log10(lo); e <= Math.log10(hi) + 1e-9; e++) {
    const v = Math.pow(10, e);
    out.push(`<line x1="${m.left}" x2="${width - m.right}" y1="${y(v).toFixed(1)}" y2="${y(v).toFixed(1)}" stroke="#ddd"/>`);
    out.push(`<text x="${m.left - 6}" y="${(y(v) + 4).toFixed(1)}" text-anchor="end">${escapeXml(formatDuration(v))}</text>`);
  }
  out.push(`<text transform="translate(16 ${(height - m.bottom + m.top) / 2}) rotate(-90)" text-anchor="middle">time per operation</text>`);
  shown.forEach((t, g) => {
    const x0 = m.left + g * groupW + (groupW - barW * present.length) / 2;
    present.forEach((id, k) => {
      const v = valueOf(t, id);
      if (v === undefined) return;
      const x = x0 + k * barW;
      const top = y(v);
      out.push(`<rect x="${x.toFixed(1)}" y="${top.toFixed(1)}" width="${(barW - 2).toFixed(1)}" height="${(height - m.bottom - top).toFixed(1)}" fill="${COLORS[id] ?? '#999'}"><title>${escapeXml(`${name(id)}, ${t.title}: ${formatDuration(v)}`)}</title></rect>`);
      out.push(`<text transform="translate(${(x + barW / 2).toFixed(1)} ${(top - 4).toFixed(1)}) rotate(-90)" font-size="9">${escapeXml(formatDuration(v))}</text>`);
    });
    out.push(`<text x="${(m.left + g * groupW + groupW / 2).toFixed(1)}" y="${height - m.bottom + 18}" text-anchor="middle">${escapeXml(short(t.id))}</text>`);
    if (g > 0) out.push(`<line x1="${(m.left + g * groupW).toFixed(1)}" x2="${(m.left + g * groupW).toFixed(1)}" y1="${m.top}" y2="${height - m.bottom + 24}" stroke="#eee"/>`);
  });
  out.push(`<line x1="${m.left}" x2="${width - m.right}" y1="${height - m.bottom}" y2="${height - m.bottom}" stroke="#333"/>`);
  present.forEach((id, k) => {
    const lx = m.left + (k % 4) * 220;
    const ly = height - m.bottom + 44 + Math.floor(k / 4) * 18;
    out.push(`<rect x="${lx}" y="${ly - 10}" width="12" height="12" fill="${COLORS[id] ?? '#999'}"/>`);
    out.push(`<text x="${lx + 18}" y="${ly}">${escapeXml(name(id))}</text>`);
  });
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}

export function recoverySvg(rec: RecoveryResults): string {
  const MiB = 2 ** 20;
  const line = (points: RecoveryResults['shmDirty'], f: RecoveryResults['fit']): Array<[number, number]> =>
    [0, ...points.map((p) => p.dirtyBytes)].map((b) => [b / MiB, f.interceptMs + (f.slopeMsPerGiB * b) / 2 ** 30]);
  return svgChart({
    title: 'Warm reboot time against dirty bytes', xLabel: 'dirty data (MiB)', yLabel: 'recovery time (ms)',
    series: [
      { name: 'files on the disk (median)', points: rec.diskDirty.map((p) => [p.dirtyBytes / MiB, p.medianMs]), color: '#d62728' },
      { name: `disk: fit (R² ${rec.diskFit.r2.toFixed(3)})`, points: line(rec.diskDirty, rec.diskFit), color: '#ff7f0e' },
      { name: 'files in tmpfs (median)', points: rec.shmDirty.map((p) => [p.dirtyBytes / MiB, p.medianMs]), color: '#1f77b4' },
      { name: `tmpfs: fit (R² ${rec.fit.r2.toFixed(3)})`, points: line(rec.shmDirty, rec.fit), color: '#2ca02c' },
    ],
  }, 960, 560);
}

export function regionSvg(rec: RecoveryResults): string {
  return svgChart({
    title: 'Open time against region size', xLabel: 'region size (GiB, log)', yLabel: 'time (ms, log)', xLog: true, yLog: true,
    series: [
      { name: `recovery, ${mibOf(rec.plan.fixedDirtyBytes)} dirty (files in tmpfs)`, points: rec.region.map((p) => [p.regionBytes / 2 ** 30, p.medianMs]) },
      { name: 'clean open', points: rec.clean.map((c) => [c.regionBytes / 2 ** 30, c.medianMs]) },
    ],
  }, 900, 520);
}
