/**
 * Reading V8 .cpuprofile files (node --cpu-prof): self time per function,
 * time under a given ancestor, and a short text summary. A native function
 * called through V8's fast API has no frame of its own, so its time is the
 * self time of the JS function that calls it (crc32c shows up as
 * RegionMemory.crc in src/region/primitives.ts).
 */
import * as fs from 'node:fs';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}

interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}

export interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

export interface FunctionTime {
  /** "name file:line" (file relative to the package: src/…, dist/…, node:…). */
  key: string;
  name: string;
  file: string;
  selfMs: number;
  /** Time with this function anywhere on the stack (counted once per sample). */
  totalMs: number;
}

export function readProfile(path: string): CpuProfile {
  return JSON.parse(fs.readFileSync(path, 'utf8')) as CpuProfile;
}

function shortFile(url: string): string {
  if (url === '') return '';
  const m = /\/(dist\/(?:src|bench)\/.*)$/.exec(url) ?? /\/(node_modules\/.*)$/.exec(url);
  if (m) return m[1].replace(/^dist\//, '').replace(/\.js$/, '.ts');
  return url.replace(/^file:\/\//, '');
}

/**
 * Per-function self and total time, optionally only for samples whose stack
 * holds a function named `under` (e.g. 'recoverRegion').
 */
export function functionTimes(p: CpuProfile, under?: string): { totalMs: number; functions: FunctionTime[] } {
  const parent = new Map<number, number>();
  const byId = new Map<number, ProfileNode>();
  for (const n of p.nodes) {
    byId.set(n.id, n);
    for (const c of n.children ?? []) parent.set(c, n.id);
  }
  const keyOf = (n: ProfileNode) => `${n.callFrame.functionName || '(anonymous)'} ${shortFile(n.callFrame.url)}:${n.callFrame.lineNumber + 1}`;
  const weight = new Map<number, number>();
  for (let i = 0; i < p.samples.length; i++) weight.set(p.samples[i], (weight.get(p.samples[i]) ?? 0) + (p.timeDeltas[i] ?? 0));
  const self = new Map<string, FunctionTime>();
  let totalUs = 0;
  for (const [id, us] of weight) {
    const stack: ProfileNode[] = [];
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) stack.push(byId.get(at)!);
    if (under && !stack.some((n) => n.callFrame.functionName === under)) continue;
    totalUs += us;
    const seen = new Set<string>();
    stack.forEach((n, depth) => {
      const key = keyOf(n);
      let f = self.get(key);
      if (!f) self.set(key, (f = { key, name: n.callFrame.functionName || '(anonymous)', file: shortFile(n.callFrame.url), selfMs: 0, totalMs: 0 }));
      if (depth === 0) f.selfMs += us / 1000;
      if (!seen.has(key)) {
        seen.add(key);
        f.totalMs += us / 1000;
      }
    });
  }
  return { totalMs: totalUs / 1000, functions: [...self.values()] };
}

/** Self time of functions matching `name` (and, when given, whose file contains `file`). */
export function selfMsOf(t: { functions: FunctionTime[] }, name: string, file?: string): number {
  return t.functions.filter((f) => f.name === name && (!file || f.file.includes(file))).reduce((a, f) => a + f.selfMs, 0);
}

/** The top functions by self time and by total time, as text. */
export function summarizeProfile(t: { totalMs: number; functions: FunctionTime[] }, top = 20): string {
  const pct = (ms: number) => `${((100 * ms) / Math.max(1e-9, t.totalMs)).toFixed(1).padStart(5)}%`;
  const line = (f: FunctionTime, ms: number) => `${ms.toFixed(1).padStart(9)} ms ${pct(ms)}  ${f.key}`;
  const bySelf = [...t.functions].sort((a, b) => b.selfMs - a.selfMs).slice(0, top);
  const byTotal = [...t.functions].filter((f) => f.file.startsWith('src/')).sort((a, b) => b.totalMs - a.totalMs).slice(0, top);
  return [
    `sampled ${t.totalMs.toFixed(1)} ms`,
    'self time (where the CPU was):',
    ...bySelf.map((f) => line(f, f.selfMs)),
    'total time of riocache functions (with their callees):',
    ...byTotal.map((f) => line(f, f.totalMs)),
  ].join('\n');
}
