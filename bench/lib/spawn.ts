/** One worker process per job: fork with an IPC channel, one reply, a time limit. */
import { fork, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import type { Job, Reply } from './protocol';

export const workerPath = join(__dirname, '..', 'worker.js');

export interface Worker {
  child: ChildProcess;
  /** The worker's one reply (rejects if it dies first or times out). */
  reply: Promise<Reply>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export function startWorker(job: Job, options: { execArgv?: string[]; timeoutMs: number }): Worker {
  const child = fork(workerPath, [JSON.stringify(job)], {
    execArgv: options.execArgv ?? [],
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    if (stderr.length < 20000) stderr += d.toString();
  });
  child.stdout?.resume();
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })));
  const reply = new Promise<Reply>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`worker timed out after ${options.timeoutMs} ms (${describe(job)})`));
    }, options.timeoutMs);
    child.once('message', (m) => {
      clearTimeout(timer);
      const r = m as Reply;
      if (r.kind === 'error') reject(new Error(`${describe(job)}: ${r.message}\n${r.stack ?? ''}`));
      else resolve(r);
    });
    void exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`worker exited (code ${code}, signal ${signal}) without replying (${describe(job)})\n${stderr.trim()}`));
    });
  });
  return { child, reply, exited };
}

export async function runWorker(job: Job, options: { execArgv?: string[]; timeoutMs: number }): Promise<Reply> {
  const w = startWorker(job, options);
  try {
    return await w.reply;
  } finally {
    await w.exited;
  }
}

function describe(job: Job): string {
  if (job.kind === 'op') return `${job.trial} / ${job.contender}`;
  if (job.kind === 'build-dirty') return `building ${job.dirtyBytes} dirty bytes`;
  return job.create !== undefined ? `creating a ${job.create}-byte region` : `opening ${job.region}`;
}
