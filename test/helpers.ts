/** Shared test helpers: scratch directories and real child processes. */
import { fork, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import { join, resolve } from 'node:path';

export const repoRoot = resolve(__dirname, '..');
export const fixtures = join(__dirname, 'fixtures');

/** A fresh directory under /dev/shm (tmpfs), removed by the returned cleanup. */
export function scratchDir(label: string): { dir: string; cleanup: () => void } {
  const base = fs.existsSync('/dev/shm') ? '/dev/shm' : '/tmp';
  const dir = fs.mkdtempSync(join(base, `riocache-test-${label}-`));
  return { dir, cleanup: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

export function sha256(path: string): string {
  return createHash('sha256').update(fs.readFileSync(path)).digest('hex');
}

export interface Child {
  proc: ChildProcess;
  /** Resolves with the next message the child sends. */
  next(): Promise<any>;
  /** Resolves when the child has exited, with its signal or code. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Runs a fixture script (plain JS over dist/) with an IPC channel. */
export function spawnFixture(script: string, args: string[] = [], env: NodeJS.ProcessEnv = {}): Child {
  const proc = fork(join(fixtures, script), args, {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const queue: any[] = [];
  const waiters: Array<(m: any) => void> = [];
  proc.on('message', (m) => {
    const w = waiters.shift();
    if (w) w(m);
    else queue.push(m);
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((res) =>
    proc.on('exit', (code, signal) => res({ code, signal })),
  );
  return {
    proc,
    exited,
    next: () =>
      new Promise((res, rej) => {
        if (queue.length > 0) return res(queue.shift());
        waiters.push(res);
        exited.then(({ code, signal }) => rej(new Error(`child exited (code ${code}, signal ${signal}) before sending a message`)));
      }),
  };
}

export async function killHard(child: Child): Promise<void> {
  child.proc.kill('SIGKILL');
  const { signal } = await child.exited;
  if (signal !== 'SIGKILL') throw new Error(`expected the child to die of SIGKILL, got ${signal}`);
}

/** A deterministic PRNG (mulberry32, the crash campaign's) so every failure can print its seed. */
export { mulberry as rng } from '../src/tools/crashtest/random';
