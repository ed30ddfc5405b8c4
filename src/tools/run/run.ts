/**
 * `riocache run`: a command under riocache/register, without touching its
 * code. The child gets the RIOCACHE_* variables of the hook and one more
 * `--require` in NODE_OPTIONS (whatever NODE_OPTIONS it had is kept); its
 * stdio is this process's, and its exit code or signal becomes this
 * process's. Node processes the command starts inherit both, so a cluster,
 * pm2 in no-daemon mode or `npm start` are covered too (each process takes
 * its own region of the pool, src/register/regionPool.ts).
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import { join, resolve } from 'node:path';
import { invalidValue } from '../../errors';
import { validateOptions } from '../../cache/open';

export interface RunOptions {
  /** The data directory: every fs call beneath it goes through the cache. */
  root: string;
  /** The region file (the first of its pool). Default: /dev/shm/riocache-<hash of the root>.rio. */
  region?: string;
  /** Region size when creating it. */
  size?: string;
  /** The hook reports its region, its warm reboot and its close on stderr. */
  verbose?: boolean;
  /** The command and its arguments. */
  command: string[];
  /** Where diagnostics go (verbose only). */
  log?: (line: string) => void;
}

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** The hook's entry point, absolute, so the child resolves it whatever its own node_modules hold. */
export const HOOK_PATH = join(__dirname, '..', '..', 'register', 'index.js');

/** A region path per root, so two services on one machine never share one by default. */
export function defaultRegion(root: string): string {
  const dir = fs.existsSync('/dev/shm') ? '/dev/shm' : '/tmp';
  return join(dir, `riocache-${createHash('sha256').update(resolve(root)).digest('hex').slice(0, 12)}.rio`);
}

/** NODE_OPTIONS with the hook's --require appended (quoted, as NODE_OPTIONS parses it). */
export function withHook(nodeOptions: string | undefined): string {
  const hook = `--require "${HOOK_PATH.replace(/(["\\])/g, '\\$1')}"`;
  return nodeOptions && nodeOptions.trim() !== '' ? `${nodeOptions} ${hook}` : hook;
}

/** The child's environment: the caller's, the hook's variables, NODE_OPTIONS with the hook. */
export function childEnv(o: RunOptions, env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const root = resolve(o.root);
  const region = resolve(o.region ?? defaultRegion(root));
  const out: NodeJS.ProcessEnv = { ...env, RIOCACHE_ROOT: root, RIOCACHE_REGION: region, NODE_OPTIONS: withHook(env.NODE_OPTIONS) };
  if (o.size !== undefined) out.RIOCACHE_SIZE = o.size;
  if (o.verbose) out.RIOCACHE_VERBOSE = '1';
  return out;
}

/** Checks the options as openCache would (the errors name the options), and that the root is a directory. */
export function checkRunOptions(o: RunOptions): void {
  if (!Array.isArray(o.command) || o.command.length === 0) throw invalidValue('command', 'must name a program to run', o.command);
  validateOptions({ root: o.root, region: o.region ?? defaultRegion(o.root), ...(o.size !== undefined ? { size: o.size } : {}) });
  let st: fs.Stats;
  try {
    st = fs.statSync(o.root);
  } catch {
    throw invalidValue('root', 'must be an existing directory (it does not exist)', o.root);
  }
  if (!st.isDirectory()) throw invalidValue('root', 'must be a directory', o.root);
}

const FORWARDED: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2'];

/**
 * Runs the command to its end. Signals sent to this process are passed on to
 * the child (which decides what they do); the result is the child's.
 */
export function runCommand(o: RunOptions): Promise<RunResult> {
  checkRunOptions(o);
  const env = childEnv(o);
  if (o.verbose) o.log?.(`riocache run: root ${env.RIOCACHE_ROOT}, region ${env.RIOCACHE_REGION}; ${o.command.join(' ')}`);
  const child = spawn(o.command[0], o.command.slice(1), { stdio: 'inherit', env });
  const forward = (signal: NodeJS.Signals) => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
  };
  for (const s of FORWARDED) process.on(s, forward);
  return new Promise((res, rej) => {
    child.on('error', (err) => {
      for (const s of FORWARDED) process.off(s, forward);
      rej(err);
    });
    child.on('exit', (code, signal) => {
      for (const s of FORWARDED) process.off(s, forward);
      res({ code, signal });
    });
  });
}
