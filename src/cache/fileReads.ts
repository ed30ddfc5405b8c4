/**
 * Reads of a cached file's bytes straight into the caller's memory: a read
 * miss served around the cache (missHistory.ts). One native call
 * (native/reads.cc), which costs less than fs.readSync's argument checks and
 * request object, so a miss that goes around the cache is no slower than
 * plain fs. Fills of region buffers go through RegionMemory.readFile (a
 * region store).
 */
import * as fs from 'node:fs';
import { native } from '../native';

/** The kernel would have to wait for the disk (RWF_NOWAIT): read on the thread pool instead. */
export const WOULD_BLOCK = -1;
/** The file system does not take RWF_NOWAIT: never ask again for this file. */
export const NOWAIT_UNSUPPORTED = -2;

export const EAGAIN = 11;
export const EOPNOTSUPP = 95;

const scratch = new Float64Array(native.scratch);

/**
 * Reads file bytes [position, +length) into dst[offset...]: the count, short
 * only at the end of the file. With `nowait`, only what the page cache holds
 * now: WOULD_BLOCK (or NOWAIT_UNSUPPORTED) when it does not hold it all, and
 * then nothing in dst is to be used; an I/O error is answered the same way,
 * so that the thread pool's read meets it again and reports it. Without, an
 * I/O error is thrown as fs.readSync throws it.
 */
export function readInto(fd: number, dst: Uint8Array, offset: number, length: number, position: number, nowait: boolean): number {
  const s = scratch;
  s[0] = fd;
  s[1] = offset;
  s[2] = length;
  s[3] = position;
  s[4] = nowait ? 1 : 0;
  native.preadAt(dst);
  const err = s[6];
  if (err === 0) return s[7];
  if (nowait) return err === EOPNOTSUPP ? NOWAIT_UNSUPPORTED : WOULD_BLOCK;
  // node:fs repeats the rest: it throws the error as its callers expect it, or reads on if it has passed.
  let got = s[7];
  while (got < length) {
    const n = fs.readSync(fd, dst, offset + got, length - got, position + got);
    if (n === 0) break;
    got += n;
  }
  return got;
}
