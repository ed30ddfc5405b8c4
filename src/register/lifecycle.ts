/**
 * The cache's life inside an unmodified process. The warm reboot has already
 * run (install opens the region before the application's first fs call).
 *
 *   - the event loop empties ('beforeExit'): flush() writes everything back
 *     asynchronously (the cache stays open: an exit handler may still write);
 *   - process.exit() or the end ('exit'): closeSync() in the last 'exit'
 *     listener, so the application's own exit handlers (pino's final flush)
 *     still write through the cache. closeSync cannot wait for an
 *     asynchronous write-back in flight: the region is then left open with
 *     its data safe, and the next start (or `riocache recover`) finishes it;
 *   - SIGTERM/SIGINT: no handler is installed. If the application has one,
 *     its exit comes through 'exit'; if not, Node's default kills the
 *     process like SIGKILL would, and the next start recovers the region.
 *   - a crash: the region stays as it was, for the next start.
 */
import type { Cache } from '../cache/cache';

export function attachLifecycle(cache: Cache, report: (line: string) => void): void {
  // The loop is empty: write back now, asynchronously, so that the close at exit finds nothing in
  // flight and marks the region clean. Once per batch of writes (else the flush would keep the loop alive).
  let flushedAt = -1;
  process.on('beforeExit', () => {
    const writes = cache.engine.stats.writes;
    if (cache.closed || writes === flushedAt) return;
    flushedAt = writes;
    cache.flush().catch((err: Error) => report(`write-back before exit failed (${err.message}); the data stays in the region`));
  });

  const onExit = (): void => {
    if (cache.shut) return;
    const listeners = process.listeners('exit');
    if (listeners[listeners.length - 1] !== onExit) {
      // An exit listener added after ours and too late to be moved: it may still write. Write back now,
      // leave the region open: what it writes is in the region, and the next start recovers it.
      try {
        cache.flushSync();
      } catch {
        // The data stays dirty in the region: the next start writes it back.
      }
      return;
    }
    try {
      cache.closeSync();
      report(cache.shut ? 'closed at exit' : 'exit with write-back in flight: region left for the next start');
    } catch (err) {
      report(`close at exit failed (${(err as Error).message}); the region stays open for the next start`);
    }
  };
  process.on('exit', onExit);
  // Keep ours the last 'exit' listener: an application's handler (a logger's final flush) runs before the close.
  let moving = false;
  process.on('newListener', (event: string | symbol, listener: unknown) => {
    if (event !== 'exit' || listener === onExit || moving) return;
    moving = true;
    queueMicrotask(() => {
      moving = false;
      process.removeListener('exit', onExit);
      process.on('exit', onExit);
    });
  });
}
