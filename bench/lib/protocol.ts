/**
 * The runner and its worker processes talk over the IPC channel of
 * child_process.fork: the job goes in argv (JSON), one reply comes back as a
 * message, then the worker exits. Nothing is printed on the worker's stdout.
 */
import type { Measurement } from './measure';

export interface OpJob {
  kind: 'op';
  trial: string;
  contender: string;
  quick: boolean;
  seed: number;
  warmupMs: number;
  warmupCapMs: number;
  measureMs: number;
  minSamples: number;
  sampleNs: number;
  /** Prefix of the scratch directories (so the runner can clean after a killed worker). */
  scratchTag: string;
}

export interface OpResult {
  kind: 'op';
  trial: string;
  contender: string;
  measurement: Measurement;
  /** ns spent before measuring (setup and prefill), for the record. */
  setupMs: number;
  info: Record<string, number>;
}

/** Builds a crashed region: opens a cache that never writes back, dirties `dirtyBytes`, reports, waits to be killed. */
export interface BuildJob {
  kind: 'build-dirty';
  region: string;
  root: string;
  regionBytes: number;
  dirtyBytes: number;
  files: number;
  seed: number;
}

export interface BuildResult {
  kind: 'build-dirty';
  dirtyBytes: number;
  dirtyBlocks: number;
  writeMs: number;
  pid: number;
}

/** Opens a region in a fresh process and times it (a warm reboot when its owner died). */
export interface OpenJob {
  kind: 'open';
  region: string;
  root: string;
  /** Create a sparse region of this size, write a little, close it cleanly, and stop (no timing). */
  create?: number;
}

export interface OpenResult {
  kind: 'open';
  wallMs: number;
  /** cache.recovery, reduced to the figures the report uses. */
  recovery: {
    ran: boolean; durationMs: number; dirtyBuffersFound: number; dirtyBuffersWritten: number; bytesWritten: number;
    corruptBuffers: number; problems: number;
  };
  regionBytes: number;
  capacityBytes: number;
  closeMs: number;
}

export type Job = OpJob | BuildJob | OpenJob;
export type Reply = OpResult | BuildResult | OpenResult | { kind: 'error'; message: string; stack?: string };
