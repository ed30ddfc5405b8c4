/**
 * cache.fs.promises: node:fs/promises over the cache. Every function is an
 * own property derived from the table (table.ts); `open` resolves to a
 * FileHandle. Reads that miss and writes that need room wait asynchronously
 * (G9) instead of blocking; calls that are not transactional wait for a
 * transaction in progress to end.
 */
import * as fs from 'node:fs';
import type { Cache } from '../cache/cache';
import { contextOf } from './context';
import { FileHandle } from './fileHandle';
import { lchmodUnsupported } from './ops/names';
import { promiseFunctions } from './table';
import { promisesWatchFace } from './watch';

export { FileHandle };

export class CachePromises {
  /** Node's fs.constants. */
  readonly constants: typeof fs.constants = fs.constants;

  constructor(cache: Cache) {
    const ctx = contextOf(cache);
    Object.assign(this, promiseFunctions(ctx));
    const self = this as unknown as Record<string, unknown>;
    self.watch = promisesWatchFace(ctx);
    self.lchmod = lchmodUnsupported;
  }
}

type NodePromises = typeof fs.promises;

/** The function types of node:fs/promises, FileHandle ours. */
export interface CachePromises extends Omit<NodePromises, 'constants' | 'open'> {
  open(path: fs.PathLike, flags?: string | number, mode?: fs.Mode): Promise<FileHandle>;
}
