/**
 * Terminal output shared by the tools: a progress line that redraws in place
 * on a terminal (and stays silent otherwise), and aligned tables.
 */

export interface Progress {
  update(done: number, total: number, detail?: string): void;
  done(summary?: string): void;
}

/** A progress bar on stderr when it is a terminal; nothing otherwise (or with --json). */
export function progressBar(label: string, enabled = process.stderr.isTTY === true): Progress {
  let last = 0;
  const width = 28;
  const draw = (done: number, total: number, detail = '') => {
    const ratio = total > 0 ? Math.min(1, done / total) : 0;
    const filled = Math.round(ratio * width);
    const bar = '█'.repeat(filled) + '░'.repeat(width - filled);
    const pct = `${(ratio * 100).toFixed(0).padStart(3)}%`;
    process.stderr.write(`\r\x1b[2K${label} ${bar} ${pct} ${detail}`);
  };
  return {
    update(done, total, detail) {
      if (!enabled) return;
      const now = Date.now();
      if (now - last < 80 && done < total) return;
      last = now;
      draw(done, total, detail);
    },
    done(summary) {
      if (!enabled) return;
      process.stderr.write(`\r\x1b[2K${summary ? `${label} ${summary}\n` : ''}`);
    },
  };
}

export type Cell = string | number;

/** Columns padded to their widest cell; numbers right-aligned. */
export function table(headers: string[], rows: Cell[][]): string {
  const text = rows.map((r) => r.map((c) => (typeof c === 'number' ? formatNumber(c) : c)));
  const widths = headers.map((h, i) => Math.max(h.length, ...text.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[], raw?: Cell[]) =>
    cells.map((c, i) => (raw && typeof raw[i] === 'number' ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join('  ').trimEnd();
  return [line(headers), widths.map((w) => '─'.repeat(w)).join('  '), ...text.map((r, i) => line(r, rows[i]))].join('\n');
}

/** A markdown table (for reports). */
export function markdownTable(headers: string[], rows: Cell[][]): string {
  const text = rows.map((r) => r.map((c) => (typeof c === 'number' ? formatNumber(c) : c)));
  return [`| ${headers.join(' | ')} |`, `|${headers.map(() => '---').join('|')}|`, ...text.map((r) => `| ${r.join(' | ')} |`)].join('\n');
}

export function formatNumber(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  if (Number.isInteger(n)) return n.toLocaleString('en-US');
  const abs = Math.abs(n);
  return abs >= 100 ? n.toFixed(0) : abs >= 10 ? n.toFixed(1) : abs >= 1 ? n.toFixed(2) : n.toPrecision(3);
}

/** 1234 ns -> "1.23 µs". */
export function formatDuration(ns: number): string {
  if (ns < 1e3) return `${formatNumber(ns)} ns`;
  if (ns < 1e6) return `${formatNumber(ns / 1e3)} µs`;
  if (ns < 1e9) return `${formatNumber(ns / 1e6)} ms`;
  return `${formatNumber(ns / 1e9)} s`;
}
