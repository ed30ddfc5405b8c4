/**
 * One operation of the table: how Node parses its arguments, its synchronous
 * core, and (where it may wait: a read that misses, a write that needs room,
 * a transaction to end) its asynchronous core. The Sync, callback, promise
 * and FileHandle faces are derived from this in faces.ts; nothing about an
 * operation is written twice.
 *
 * Operations made of other operations (readFile: open, read until the end,
 * close) are written once as a generator of steps (`yield call(op, args)`),
 * which runSync drives with the synchronous cores and runAsync with the
 * asynchronous ones.
 */
import type { FsContext } from './context';

/** The face an argument list comes from: Node discriminates some overloads differently per face. */
export type Face = 'sync' | 'callback' | 'promise' | 'handle';

export interface Op<P = any, R = any> {
  /** The callback form's name in node:fs ('open'); the Sync face is `${name}Sync`. */
  readonly name: string;
  /**
   * Validates and normalises the arguments (the callback removed) as Node does.
   * `n` is how many were passed: some overloads depend on it.
   */
  parse(face: Face, n: number, a?: unknown, b?: unknown, c?: unknown, d?: unknown, e?: unknown): P;
  sync(ctx: FsContext, p: P): R;
  /** Absent: the asynchronous faces run the synchronous core (it never waits). */
  async?(ctx: FsContext, p: P): Promise<R>;
  /**
   * The asynchronous core's first attempt, run at once: its result when the
   * call needs no wait (a hit, a write with room and no transaction), else
   * LATER, and the faces run `async`. It must leave nothing half done when
   * it answers LATER. Spares a hit the promise round trips of `async`.
   */
  immediate?(ctx: FsContext, p: P): R | typeof LATER;
  /** The callback's arguments after the error (default: the result, or none when it is undefined). */
  callbackArgs?(r: R, p: P): unknown[];
  /** What the promise and FileHandle faces resolve to (default: the result). */
  promised?(r: R, p: P, ctx: FsContext): unknown;
  /** What the Sync face returns (default: the result). */
  returned?(r: R, p: P): unknown;
  /** The callback may be omitted (close). */
  readonly callbackOptional?: boolean;
  /** The callback gets the result alone, no error first (exists). */
  readonly callbackWithoutError?: boolean;
}

/** What an immediate attempt answers when the call must wait: the asynchronous core runs instead. */
export const LATER: unique symbol = Symbol('later');

/** The immediate attempt of an op with one, else LATER: the asynchronous core (or the synchronous one) runs. */
export function attempt<P, R>(ctx: FsContext, op: Op<P, R>, p: P): R | typeof LATER {
  return op.immediate ? op.immediate(ctx, p) : LATER;
}

export function defineOp<P, R>(op: Op<P, R>): Op<P, R> {
  return op;
}

// ------------------------------------------------------------------ steps

export interface Step {
  op: Op;
  p: unknown;
}

export type Steps<R> = Generator<Step, R, any>;

export function call<P>(op: Op<P, unknown>, p: P): Step {
  return { op, p };
}

/** Drives a generator core with the synchronous cores. */
export function runSync<R>(ctx: FsContext, g: Steps<R>): R {
  let r = g.next();
  while (!r.done) {
    let value: unknown;
    try {
      value = r.value.op.sync(ctx, r.value.p);
    } catch (err) {
      r = g.throw(err);
      continue;
    }
    r = g.next(value);
  }
  return r.value;
}

/** Drives a generator core with the asynchronous cores (the synchronous one where an op has none). */
export async function runAsync<R>(ctx: FsContext, g: Steps<R>): Promise<R> {
  let r = g.next();
  while (!r.done) {
    const { op, p } = r.value;
    let value: unknown;
    try {
      const now = attempt(ctx, op, p);
      value = now !== LATER ? now : op.async ? await op.async(ctx, p) : op.sync(ctx, p);
    } catch (err) {
      r = g.throw(err);
      continue;
    }
    r = g.next(value);
  }
  return r.value;
}

/** An op whose core is a generator: both cores come from it. */
export function stepsOp<P, R>(op: Omit<Op<P, R>, 'sync' | 'async'> & { steps(ctx: FsContext, p: P): Steps<R> }): Op<P, R> {
  const { steps, ...rest } = op;
  return {
    ...rest,
    sync: (ctx, p) => runSync(ctx, steps(ctx, p)),
    async: (ctx, p) => runAsync(ctx, steps(ctx, p)),
  };
}

/**
 * The asynchronous core of a call that is not transactional (truncate,
 * rename, unlink, …): wait for a transaction in progress to end, then run
 * the synchronous core (whose synchronous face refuses during one).
 */
export function afterTransaction<P, R>(sync: (ctx: FsContext, p: P) => R): (ctx: FsContext, p: P) => Promise<R> {
  return async (ctx, p) => {
    await ctx.cache.txs.transactionEnded();
    return sync(ctx, p);
  };
}
