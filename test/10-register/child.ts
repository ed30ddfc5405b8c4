/**
 * Children for the register tests: a plain Node program run with
 * `--require riocache/register` (resolved through the package's `exports`,
 * as a user's would be) or without it, on the same code. Each prints one
 * JSON line per acknowledged step on stdout; the parent is the oracle.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../helpers';

export const apps = join(__dirname, 'apps');

export interface Run {
  proc: ChildProcess;
  /** Every stdout line so far, parsed when it is JSON. */
  lines: any[];
  stderr: () => string;
  /** Resolves when `pred` holds for a line (or rejects when the child exits first). */
  until(pred: (line: any) => boolean): Promise<any>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export interface RunOptions {
  /** Load riocache/register (true) or run on plain fs (false). */
  register: boolean;
  env?: NodeJS.ProcessEnv;
  args?: string[];
  /** --import instead of --require (ESM). */
  esm?: boolean;
  /** An IPC channel to the child (proc.send). */
  ipc?: boolean;
}

/** The environment of a hooked child: the root, its region pool, and the rest as given. */
export function registerEnv(root: string, region: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return { RIOCACHE_ROOT: root, RIOCACHE_REGION: region, RIOCACHE_SIZE: '16MiB', ...extra };
}

export function run(app: string, o: RunOptions): Run {
  const hook = o.register ? [o.esm ? '--import' : '--require', 'riocache/register'] : [];
  const env: NodeJS.ProcessEnv = { ...process.env, ...(o.env ?? {}) };
  if (!o.register) for (const k of Object.keys(env)) if (k.startsWith('RIOCACHE_')) delete env[k];
  const proc = spawn(process.execPath, [...hook, app.includes('/') ? app : join(apps, app), ...(o.args ?? [])], {
    cwd: repoRoot, env, stdio: o.ipc ? ['ignore', 'pipe', 'pipe', 'ipc'] : ['ignore', 'pipe', 'pipe'],
  });
  const lines: any[] = [];
  let err = '';
  let partial = '';
  const waiters: Array<{ pred: (l: any) => boolean; res: (l: any) => void }> = [];
  proc.stdout!.setEncoding('utf8');
  proc.stdout!.on('data', (chunk: string) => {
    partial += chunk;
    let i: number;
    while ((i = partial.indexOf('\n')) >= 0) {
      const text = partial.slice(0, i);
      partial = partial.slice(i + 1);
      let line: any = text;
      try {
        line = JSON.parse(text);
      } catch {
        // not JSON: kept as text
      }
      lines.push(line);
      for (const w of [...waiters]) {
        if (w.pred(line)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.res(line);
        }
      }
    }
  });
  proc.stderr!.setEncoding('utf8');
  proc.stderr!.on('data', (c: string) => (err += c));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((res) => proc.on('close', (code, signal) => res({ code, signal })));
  return {
    proc, lines, exited, stderr: () => err,
    until: (pred) => new Promise((res, rej) => {
      const hit = lines.find(pred);
      if (hit !== undefined) return res(hit);
      waiters.push({ pred, res });
      exited.then(({ code, signal }) => rej(new Error(`child exited (code ${code}, signal ${signal}) first; stderr:\n${err}`)));
    }),
  };
}

/** Runs to the end; throws with its stderr unless it exits 0. */
export async function runToEnd(app: string, o: RunOptions): Promise<Run> {
  const r = run(app, o);
  const { code, signal } = await r.exited;
  if (code !== 0) throw new Error(`${app} exited with code ${code} (signal ${signal}); stderr:\n${r.stderr()}`);
  return r;
}

/** SIGKILLs a child and waits for it to die. */
export async function kill(r: Run): Promise<void> {
  r.proc.kill('SIGKILL');
  const { signal } = await r.exited;
  if (signal !== 'SIGKILL' && signal !== null) throw new Error(`expected SIGKILL, got ${signal}`);
}

/** A scratch world: a root on the disk (/tmp: write-back is real I/O) and a region path in /dev/shm. */
export function world(label: string): { root: string; region: string; cleanup: () => void } {
  const root = fs.mkdtempSync(join('/tmp', `riocache-reg-${label}-`));
  const shm = fs.existsSync('/dev/shm') ? '/dev/shm' : '/tmp';
  const region = join(shm, `${root.split('/').pop()}.rio`);
  return {
    root, region,
    cleanup: () => {
      fs.rmSync(root, { recursive: true, force: true });
      for (const f of fs.readdirSync(shm)) if (f.startsWith(region.split('/').pop()!)) fs.rmSync(join(shm, f), { force: true });
    },
  };
}
