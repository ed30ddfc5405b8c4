/**
 * The workload process of a crash campaign: opens the cache (running the
 * warm reboot if the last run was killed), reports the recovery, waits for
 * the harness to verify the files, then runs the workload until killed.
 * fd 3 carries the records; stdin carries the harness's "go".
 */
import * as fs from 'node:fs';
import { resolve } from 'node:path';
import { openCacheSync } from '../../open';
import { sendLine, WorkloadContext, type Workload } from './context';
import { encode } from './protocol';
import { builtins } from './workloads';
import { installKill } from './kill';
import { mulberry } from './random';

export interface ChildConfig {
  region: string;
  root: string;
  size: string;
  blockSize: number;
  workload: string;
  seed: number;
  run: number;
  firstSeq: number;
  /** SIGKILL itself right before this region store (counted from the open), if set. */
  killAtStore?: number;
  segmentAreaSize?: string;
}

function loadWorkload(name: string): Workload {
  if (builtins[name]) return builtins[name].run;
  const mod = require(resolve(name));
  const fn = typeof mod === 'function' ? mod : mod.default ?? mod.workload;
  if (typeof fn !== 'function') throw new Error(`${name} exports no workload function (module.exports = async (ctx) => {...})`);
  return fn;
}

async function main(): Promise<void> {
  const cfg = JSON.parse(process.argv[2]) as ChildConfig;
  const pipe = 3;
  installKill(cfg.killAtStore);
  const workload = loadWorkload(cfg.workload);
  const cache = openCacheSync({
    region: cfg.region, root: cfg.root, size: cfg.size, blockSize: cfg.blockSize,
    ...(cfg.segmentAreaSize ? { segmentAreaSize: cfg.segmentAreaSize } : {}),
    writeBack: { intervalMs: 20, maxAgeMs: 50, dirtyRatio: 0.5 },
  });
  sendLine(pipe, encode('R', cache.recovery));
  const go = Buffer.alloc(8);
  fs.readSync(0, go, 0, go.length, null);
  const ctx = new WorkloadContext(cache, cfg.seed, mulberry(cfg.seed * 7919 + cfg.run), pipe, cfg.firstSeq);
  await workload(ctx);
}

main().catch((err) => {
  process.stderr.write(`workload failed: ${(err as Error).stack ?? err}\n`);
  process.exit(70);
});
