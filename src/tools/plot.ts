/**
 * Line charts for the tools: an SVG file and a terminal rendering of the same
 * data. Series of (x, y) points on linear or log axes, with optional vertical
 * markers (the probe's knee) and a shaded band (its uncertainty).
 */

export interface Series {
  name: string;
  points: Array<[number, number]>;
  /** CSS colour; a palette colour by default. */
  color?: string;
}

export interface Marker {
  x: number;
  label: string;
  /** A band [from, to] drawn behind the marker. */
  band?: [number, number];
}

export interface ChartSpec {
  title: string;
  xLabel: string;
  yLabel: string;
  series: Series[];
  markers?: Marker[];
  xLog?: boolean;
  yLog?: boolean;
  /** Formats axis ticks (defaults to compact numbers). */
  xFormat?: (x: number) => string;
  yFormat?: (y: number) => string;
}

const palette = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#17becf'];

function compact(n: number): string {
  const abs = Math.abs(n);
  if (abs >= 1e9) return `${+(n / 1e9).toPrecision(3)}G`;
  if (abs >= 1e6) return `${+(n / 1e6).toPrecision(3)}M`;
  if (abs >= 1e3) return `${+(n / 1e3).toPrecision(3)}k`;
  return `${+n.toPrecision(3)}`;
}

interface Scale {
  map(v: number): number;
  ticks: number[];
}

function scale(values: number[], log: boolean, from: number, to: number): Scale {
  const finite = values.filter((v) => Number.isFinite(v) && (!log || v > 0));
  let lo = Math.min(...finite);
  let hi = Math.max(...finite);
  if (!Number.isFinite(lo)) {
    lo = log ? 1 : 0;
    hi = log ? 10 : 1;
  }
  if (lo === hi) {
    lo = log ? lo / 2 : lo - 1;
    hi = log ? hi * 2 : hi + 1;
  }
  if (!log && lo > 0 && lo < hi * 0.3) lo = 0;
  const f = (v: number) => (log ? Math.log10(v) : v);
  const a = f(lo);
  const b = f(hi);
  const map = (v: number) => from + ((f(v) - a) / (b - a)) * (to - from);
  const ticks: number[] = [];
  if (log) {
    for (let e = Math.floor(a); e <= Math.ceil(b); e++) {
      const t = 10 ** e;
      if (t >= lo * 0.999 && t <= hi * 1.001) ticks.push(t);
    }
    if (ticks.length < 2) ticks.push(lo, hi);
  } else {
    const raw = (hi - lo) / 5;
    const mag = 10 ** Math.floor(Math.log10(raw));
    const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => (hi - lo) / s <= 6) ?? raw;
    for (let t = Math.ceil(lo / step) * step; t <= hi + step * 1e-9; t += step) ticks.push(+t.toPrecision(12));
  }
  return { map, ticks };
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** An SVG document. */
export function svgChart(spec: ChartSpec, width = 800, height = 450): string {
  const m = { left: 72, right: 20, top: 40, bottom: 56 + 18 * Math.ceil(spec.series.length / 3) };
  const xs = spec.series.flatMap((s) => s.points.map((p) => p[0])).concat((spec.markers ?? []).flatMap((k) => [k.x, ...(k.band ?? [])]));
  const ys = spec.series.flatMap((s) => s.points.map((p) => p[1]));
  const sx = scale(xs, spec.xLog ?? false, m.left, width - m.right);
  const sy = scale(ys, spec.yLog ?? false, height - m.bottom, m.top);
  const fx = spec.xFormat ?? compact;
  const fy = spec.yFormat ?? compact;
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`);
  out.push(`<rect width="${width}" height="${height}" fill="white"/>`);
  out.push(`<text x="${width / 2}" y="22" text-anchor="middle" font-size="15" font-weight="bold">${esc(spec.title)}</text>`);
  for (const k of spec.markers ?? []) {
    if (k.band) {
      const a = sx.map(k.band[0]);
      const b = sx.map(k.band[1]);
      out.push(`<rect x="${Math.min(a, b)}" y="${m.top}" width="${Math.abs(b - a)}" height="${height - m.bottom - m.top}" fill="#ffdd88" opacity="0.45"/>`);
    }
  }
  for (const t of sy.ticks) {
    const y = sy.map(t);
    out.push(`<line x1="${m.left}" x2="${width - m.right}" y1="${y}" y2="${y}" stroke="#e6e6e6"/>`);
    out.push(`<text x="${m.left - 6}" y="${y + 4}" text-anchor="end">${esc(fy(t))}</text>`);
  }
  for (const t of sx.ticks) {
    const x = sx.map(t);
    out.push(`<line x1="${x}" x2="${x}" y1="${m.top}" y2="${height - m.bottom}" stroke="#f0f0f0"/>`);
    out.push(`<text x="${x}" y="${height - m.bottom + 16}" text-anchor="middle">${esc(fx(t))}</text>`);
  }
  out.push(`<rect x="${m.left}" y="${m.top}" width="${width - m.left - m.right}" height="${height - m.top - m.bottom}" fill="none" stroke="#444"/>`);
  out.push(`<text x="${(m.left + width - m.right) / 2}" y="${height - m.bottom + 36}" text-anchor="middle">${esc(spec.xLabel)}</text>`);
  out.push(`<text transform="translate(16 ${(m.top + height - m.bottom) / 2}) rotate(-90)" text-anchor="middle">${esc(spec.yLabel)}</text>`);
  spec.series.forEach((s, i) => {
    const color = s.color ?? palette[i % palette.length];
    const pts = s.points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y) && (!spec.xLog || x > 0) && (!spec.yLog || y > 0));
    if (pts.length > 1) {
      out.push(`<polyline fill="none" stroke="${color}" stroke-width="2" points="${pts.map(([x, y]) => `${sx.map(x).toFixed(1)},${sy.map(y).toFixed(1)}`).join(' ')}"/>`);
    }
    for (const [x, y] of pts) out.push(`<circle cx="${sx.map(x).toFixed(1)}" cy="${sy.map(y).toFixed(1)}" r="3" fill="${color}"/>`);
    const lx = m.left + (i % 3) * ((width - m.left - m.right) / 3);
    const ly = height - m.bottom + 52 + 18 * Math.floor(i / 3);
    out.push(`<rect x="${lx}" y="${ly - 9}" width="14" height="4" fill="${color}"/><text x="${lx + 20}" y="${ly - 4}">${esc(s.name)}</text>`);
  });
  for (const k of spec.markers ?? []) {
    const x = sx.map(k.x);
    out.push(`<line x1="${x}" x2="${x}" y1="${m.top}" y2="${height - m.bottom}" stroke="#c00" stroke-dasharray="5,4" stroke-width="1.5"/>`);
    out.push(`<text x="${x + 4}" y="${m.top + 14}" fill="#c00">${esc(k.label)}</text>`);
  }
  out.push('</svg>');
  return out.join('\n');
}

/** The same chart in text: one character per cell, series drawn with their initials. */
export function terminalChart(spec: ChartSpec, width = 72, height = 18): string {
  const xs = spec.series.flatMap((s) => s.points.map((p) => p[0])).concat((spec.markers ?? []).map((k) => k.x));
  const ys = spec.series.flatMap((s) => s.points.map((p) => p[1]));
  const sx = scale(xs, spec.xLog ?? false, 0, width - 1);
  const sy = scale(ys, spec.yLog ?? false, height - 1, 0);
  const fx = spec.xFormat ?? compact;
  const fy = spec.yFormat ?? compact;
  const grid = Array.from({ length: height }, () => Array<string>(width).fill(' '));
  for (const k of spec.markers ?? []) {
    const c = Math.round(sx.map(k.x));
    if (c >= 0 && c < width) for (let r = 0; r < height; r++) grid[r][c] = '┊';
  }
  const glyphs = ['●', '○', '▲', '■', '◆', '+', 'x', '*'];
  spec.series.forEach((s, i) => {
    for (const [x, y] of s.points) {
      if (!Number.isFinite(y) || (spec.yLog && y <= 0) || (spec.xLog && x <= 0)) continue;
      const c = Math.round(sx.map(x));
      const r = Math.round(sy.map(y));
      if (r >= 0 && r < height && c >= 0 && c < width) grid[r][c] = glyphs[i % glyphs.length];
    }
  });
  const yLabels = new Map(sy.ticks.map((t) => [Math.round(sy.map(t)), fy(t)]));
  const labelWidth = Math.max(...[...yLabels.values()].map((l) => l.length), 4);
  const lines = [spec.title];
  grid.forEach((row, r) => lines.push(`${(yLabels.get(r) ?? '').padStart(labelWidth)} │${row.join('')}`));
  lines.push(`${' '.repeat(labelWidth)} └${'─'.repeat(width)}`);
  const axis = Array<string>(width + labelWidth + 2).fill(' ');
  for (const t of sx.ticks) {
    const label = fx(t);
    const at = labelWidth + 2 + Math.round(sx.map(t)) - Math.floor(label.length / 2);
    for (let i = 0; i < label.length; i++) if (at + i >= 0 && at + i < axis.length) axis[at + i] = label[i];
  }
  lines.push(axis.join('').trimEnd());
  lines.push(`${' '.repeat(labelWidth + 2)}${spec.xLabel}; y: ${spec.yLabel}`);
  lines.push(spec.series.map((s, i) => `${glyphs[i % glyphs.length]} ${s.name}`).join('   ') +
    (spec.markers?.length ? `   ┊ ${spec.markers.map((k) => k.label).join(', ')}` : ''));
  return lines.join('\n');
}
