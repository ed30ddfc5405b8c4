/**
 * Watching files through the cache. What a user of cache.fs expects is to
 * hear about the changes made through cache.fs, when they are made:
 *
 * - watchFile / unwatchFile poll the cache's own stat (the size and mtime a
 *   cached file has with its dirty bytes counted), so a write through
 *   cache.fs is seen at the next poll, as node:fs sees a write to the disk.
 * - watch (and promises.watch) is the kernel's inotify on the path beneath
 *   the root (Node's fs.watch): namespace changes (create, rename, unlink,
 *   mkdir) reach the disk at once and are reported at once; data written
 *   through the cache reaches the disk, and so the watcher, at write-back
 *   (within the write-back policy's maxAgeMs, or at flush/fsync/close).
 */
import { EventEmitter } from 'node:events';
import * as fs from 'node:fs';
import type { FsContext } from './context';
import { validateFunction, validatePath } from './validate';

/** The canonical path beneath the root the kernel watches. */
function realPathOf(ctx: FsContext, filename: unknown): string {
  return ctx.names.realpath(validatePath(filename, 'filename'));
}

type WatchListener = (event: string, filename: string | Buffer | null) => void;

export function watchFace(ctx: FsContext): (filename: unknown, options?: unknown, listener?: unknown) => fs.FSWatcher {
  return function watch(filename, options, listener) {
    const real = realPathOf(ctx, filename);
    return fs.watch(real, options as fs.WatchOptions, listener as WatchListener | undefined);
  };
}

export function promisesWatchFace(ctx: FsContext): (filename: unknown, options?: unknown) => AsyncIterable<unknown> {
  return function watch(filename, options) {
    return fs.promises.watch(realPathOf(ctx, filename), options as fs.WatchOptions);
  };
}

const ZERO_STAT_FIELDS = ['dev', 'mode', 'nlink', 'uid', 'gid', 'rdev', 'blksize', 'ino', 'size', 'blocks', 'atimeMs', 'mtimeMs', 'ctimeMs', 'birthtimeMs'];

/** The Stats of a missing file, as Node's StatWatcher reports it: every field 0, every date the epoch. */
function zeroStats(bigint: boolean): fs.Stats {
  const s = Object.create(fs.Stats.prototype) as Record<string, unknown>;
  for (const k of ZERO_STAT_FIELDS) s[k] = bigint ? 0n : 0;
  for (const k of ['atime', 'mtime', 'ctime', 'birthtime']) s[k] = new Date(0);
  return s as unknown as fs.Stats;
}

const COMPARED = ['dev', 'ino', 'mode', 'nlink', 'uid', 'gid', 'size', 'mtimeMs', 'ctimeMs'] as const;

/** A StatWatcher over the cache's stat: emits 'change' (current, previous) when a poll sees a difference. */
export class StatWatcher extends EventEmitter {
  private timer: NodeJS.Timeout | null = null;
  private previous: fs.Stats;

  /** @internal */
  constructor(private readonly ctx: FsContext, private readonly path: string | Buffer, private readonly bigint: boolean) {
    super();
    this.previous = this.poll();
  }

  private poll(): fs.Stats {
    try {
      return this.ctx.names.stat(this.path, true, this.bigint) as fs.Stats;
    } catch {
      return zeroStats(this.bigint);
    }
  }

  /** @internal */
  start(interval: number, persistent: boolean): void {
    if (Number(this.previous.ino) === 0 && Number(this.previous.mtimeMs) === 0) {
      // A missing file is reported once, with zeroed stats (Node's ENOENT rule).
      const zero = this.previous;
      process.nextTick(() => this.emit('change', zero, zero));
    }
    this.timer = setInterval(() => this.tick(), interval);
    if (!persistent) this.timer.unref();
  }

  private tick(): void {
    const current = this.poll();
    const before = this.previous;
    if (COMPARED.some((k) => current[k] !== before[k])) {
      this.previous = current;
      this.emit('change', current, before);
    }
  }

  /** @internal */
  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.emit('stop');
  }

  ref(): this {
    this.timer?.ref();
    return this;
  }

  unref(): this {
    this.timer?.unref();
    return this;
  }
}

export interface FileWatchers {
  watchFile(filename: unknown, options?: unknown, listener?: unknown): StatWatcher;
  unwatchFile(filename: unknown, listener?: unknown): void;
}

export function fileWatchers(ctx: FsContext): FileWatchers {
  const watchers = new Map<string, StatWatcher>();
  const key = (filename: unknown) => {
    const p = validatePath(filename);
    return { p, k: typeof p === 'string' ? p : p.toString() };
  };
  return {
    watchFile(filename, options, listener) {
      const { p, k } = key(filename);
      if (options === null || typeof options !== 'object') {
        listener = options;
        options = null;
      }
      const o = { interval: 5007, persistent: true, bigint: false, ...(options as object | null) };
      validateFunction(listener, 'listener');
      let w = watchers.get(k);
      if (!w) {
        w = new StatWatcher(ctx, p, o.bigint);
        w.start(o.interval, o.persistent);
        watchers.set(k, w);
      }
      w.addListener('change', listener as (...a: unknown[]) => void);
      return w;
    },
    unwatchFile(filename, listener) {
      const { k } = key(filename);
      const w = watchers.get(k);
      if (!w) return;
      if (typeof listener === 'function') w.removeListener('change', listener as (...a: unknown[]) => void);
      else w.removeAllListeners('change');
      if (w.listenerCount('change') === 0) {
        w.stop();
        watchers.delete(k);
      }
    },
  };
}
