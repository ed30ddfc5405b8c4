/**
 * What every operation of the table reaches: the cache, and its cores typed
 * by the interface the facade is written against (src/cache/namespaceCore.ts):
 * `names` for the path calls, `meta` for fstat/fchmod/fchown/futimes.
 */
import type { Cache } from '../cache/cache';
import type { DescriptorMetaCore, NamespaceCore } from '../cache/namespaceCore';

export interface FsContext {
  readonly cache: Cache;
  readonly names: NamespaceCore;
  readonly meta: DescriptorMetaCore;
}

const contexts = new WeakMap<Cache, FsContext>();

/** The one context of a cache (FileHandles made outside the facade share it). */
export function contextOf(cache: Cache): FsContext {
  let ctx = contexts.get(cache);
  if (!ctx) {
    ctx = { cache, names: cache.names, meta: cache.io };
    contexts.set(cache, ctx);
  }
  return ctx;
}

/** Resolves when no transaction is in progress: the asynchronous faces of calls that are not transactional wait for it. */
export function transactionEnded(ctx: FsContext): Promise<void> {
  return ctx.cache.txs.transactionEnded();
}
