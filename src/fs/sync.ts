/**
 * cache.fs: node:fs over the cache. Every function is an own property (a
 * plain function, no `this`), derived from the table (table.ts), so
 * `const { readFileSync } = cache.fs` works detached and a process-wide
 * install can copy them onto node:fs. Descriptors are riocache's own numbers
 * (far above real ones) and work only with this cache's calls.
 */
import * as fs from 'node:fs';
import type { Cache } from '../cache/cache';
import { contextOf } from './context';
import { Dir } from './dir';
import { FileHandle } from './fileHandle';
import { CachePromises } from './promises';
import { type StreamClasses, streamClasses, type StreamFs } from './streams';
import { fsFunctions } from './table';
import { toUnixTimestamp } from './validate';
import { fileWatchers, watchFace } from './watch';

type Fn = (...args: any[]) => any;

const isHandle = (x: unknown): x is FileHandle => x instanceof FileHandle;

export class CacheFs {
  /** The promise API: `cache.fs.promises.open(...)` resolves to a FileHandle. */
  readonly promises: CachePromises;
  /** Node's fs.constants. */
  readonly constants: typeof fs.constants = fs.constants;
  /** Node's classes, for instanceof checks and `new`: the stream classes read and write through this cache. */
  readonly Stats = fs.Stats;
  readonly Dirent = fs.Dirent;
  readonly Dir = Dir;
  readonly ReadStream: StreamClasses['ReadStream'];
  readonly WriteStream: StreamClasses['WriteStream'];
  readonly FileReadStream: StreamClasses['ReadStream'];
  readonly FileWriteStream: StreamClasses['WriteStream'];
  readonly _toUnixTimestamp = toUnixTimestamp;

  constructor(cache: Cache) {
    const ctx = contextOf(cache);
    Object.assign(this, fsFunctions(ctx));
    const streams: StreamClasses = streamClasses(this as unknown as StreamFs, isHandle);
    this.ReadStream = this.FileReadStream = streams.ReadStream;
    this.WriteStream = this.FileWriteStream = streams.WriteStream;
    const self = this as unknown as Record<string, Fn>;
    self.createReadStream = function createReadStream(path: unknown, options?: unknown) {
      return new streams.ReadStream(path, options);
    };
    self.createWriteStream = function createWriteStream(path: unknown, options?: unknown) {
      return new streams.WriteStream(path, options);
    };
    self.watch = watchFace(ctx);
    Object.assign(this, fileWatchers(ctx));
    this.promises = new CachePromises(cache);
  }
}

type NodeFs = typeof fs;
type Functions = {
  [K in keyof NodeFs as NodeFs[K] extends Fn ? (K extends 'lchmod' | 'lchmodSync' ? never : K) : never]: NodeFs[K];
};

/** The function types of node:fs (lchmod excepted: Linux has none). */
export interface CacheFs extends Omit<Functions, 'Stats' | 'Dirent' | 'Dir' | 'ReadStream' | 'WriteStream' | 'promises' | '_toUnixTimestamp' | 'readSync'> {
  readSync(fd: number, buffer: NodeJS.ArrayBufferView, offset?: number | fs.ReadSyncOptions | null, length?: number | null,
    position?: fs.ReadPosition | null): number;
}
