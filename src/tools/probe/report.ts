/** What a probe prints: a summary, a table of points, and the curve (terminal or SVG). */
import { formatBytes } from '../../options';
import { type ChartSpec, type Marker, svgChart, terminalChart } from '../plot';
import { formatDuration, table } from '../term';
import type { ProbeResult } from './probe';

const percent = (r: number) => `${r >= 0 ? '+' : ''}${(r * 100).toFixed(2)}%`;

const MiB = 1024 * 1024;
const mib = (bytes: number) => bytes / MiB;

export function formatSummary(r: ProbeResult): string {
  const lines: string[] = [];
  const what = r.target === 'riocache' ? `riocache region of ${formatBytes(r.regionBytes!)}` : `OS page cache, reading ${r.file}`;
  lines.push(`probe     ${what}; blocks of ${formatBytes(r.blockSize)}; ${r.points.length} points, ` +
    `${r.points.reduce((n, p) => n + p.samples, 0)} samples, ${(r.durationMs / 1000).toFixed(1)} s`);
  lines.push(`levels    hit ${formatDuration(r.calibration.hitNs)} / miss ${formatDuration(r.calibration.missNs)} calibrated; ` +
    (r.levels.fastNs !== null ? `fast ${formatDuration(r.levels.fastNs)} / slow ${formatDuration(r.levels.slowNs!)} in the sweep (x${r.levels.ratio!.toFixed(1)})` : 'no step in the sweep'));
  if (r.found) {
    const half = r.uncertaintyBytes!;
    lines.push(`estimate  ${formatBytes(r.estimateBytes!)} ± ${formatBytes(half)} (between ${formatBytes(r.lowBytes!)}, last surely fast, ` +
      `and ${formatBytes(r.highBytes!)}, first surely slow)`);
  } else {
    lines.push(`estimate  none: ${r.reason}`);
  }
  if (r.capacityBytes !== undefined) {
    lines.push(`truth     capacity ${formatBytes(r.capacityBytes)} (${r.capacityBytes} B of data blocks)` +
      (r.errorRatio !== null ? `; estimate ${percent(r.errorRatio)}` : ''));
  }
  if (r.cgroup) {
    lines.push(`cgroup    ${r.cgroup.path}: limit ${formatBytes(r.cgroup.limitBytes)}` +
      (r.cgroup.anonBytes !== null ? `, of which ${formatBytes(r.cgroup.anonBytes)} anonymous memory of its processes` : '') +
      (r.errorRatio !== null ? `; estimate ${percent(r.errorRatio)} of the limit` : ''));
  }
  if (r.steps.length > 1) {
    lines.push(`steps     ${r.steps.map((x) => `x${x.ratio.toFixed(1)} between ${formatBytes(x.belowBytes)} and ${formatBytes(x.aboveBytes)}`).join('; ')} ` +
      '(the knee is the step into the calibrated miss level)');
  }
  for (const n of r.notes) lines.push(`note      ${n}`);
  return lines.join('\n');
}

export function formatTable(r: ProbeResult): string {
  return table(
    ['p (blocks)', 'p (bytes)', 'time/block', 'first block', 'mean', 'samples', 'class', 'phase'],
    r.points.map((p) => [
      p.blocks, formatBytes(p.bytes), formatDuration(p.perBlockNs), formatDuration(p.firstNs), formatDuration(p.meanNs), p.samples,
      p.side === null ? '-' : `${p.side}${p.outlier ? ' (outlier)' : p.sure ? '' : '?'}`, p.phase,
    ]),
  );
}

/** Reference lines closer than this (relative) to the knee share its marker, so their labels do not overprint. */
const MARKER_MERGE_RATIO = 0.1;

export function chartSpec(r: ProbeResult): ChartSpec {
  const references: Array<{ bytes: number; label: string }> = [];
  if (r.capacityBytes !== undefined) references.push({ bytes: r.capacityBytes, label: `capacity ${formatBytes(r.capacityBytes)}` });
  if (r.cgroup) references.push({ bytes: r.cgroup.limitBytes, label: `limit ${formatBytes(r.cgroup.limitBytes)}` });
  const markers: Marker[] = [];
  if (r.found) {
    const near = references.filter((ref) => Math.abs(ref.bytes / r.estimateBytes! - 1) < MARKER_MERGE_RATIO);
    markers.push({
      x: mib(r.estimateBytes!),
      label: [`knee ${formatBytes(r.estimateBytes!)}`, ...near.map((ref) => ref.label)].join('; '),
      band: [mib(r.lowBytes!), mib(r.highBytes!)],
    });
    references.splice(0, references.length, ...references.filter((ref) => !near.includes(ref)));
  }
  for (const ref of references) markers.push({ x: mib(ref.bytes), label: ref.label });
  const what = r.target === 'riocache' ? `riocache region of ${formatBytes(r.regionBytes!)}` : 'OS page cache';
  return {
    title: `Re-read time against p: ${what}`,
    xLabel: 'p, MiB read per pass',
    yLabel: 'time of one block re-read',
    series: [
      { name: 'time per block (median)', points: r.points.map((p) => [mib(p.bytes), p.perBlockNs]) },
      { name: 'first-block re-read', points: r.points.map((p) => [mib(p.bytes), p.firstNs]) },
    ],
    markers,
    // Linear in p: the knee is a vertical step with the refinement points around it
    // (a log axis would squeeze them into one column at the right edge).
    xLog: false,
    yLog: true,
    xFormat: (x) => `${+x.toPrecision(3)}MiB`,
    yFormat: (ns) => formatDuration(ns).replace(' ', ''),
  };
}

export function formatChart(r: ProbeResult, width = 72, height = 18): string {
  return terminalChart(chartSpec(r), width, height);
}

export function renderSvg(r: ProbeResult): string {
  return svgChart(chartSpec(r), 860, 480);
}

/** The full text report: summary, table, chart. */
export function formatReport(r: ProbeResult): string {
  return [formatSummary(r), '', formatTable(r), '', formatChart(r)].join('\n');
}
