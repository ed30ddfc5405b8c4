/**
 * writev until every byte is written. A short write (a full disk fills part
 * of the range) is retried for the rest, so the kernel's own error (ENOSPC,
 * EIO) surfaces; a write of nothing is EIO rather than a loop without end.
 * Used by write-back, the journal and recovery.
 */
import * as fs from 'node:fs';
import { promisify } from 'node:util';

const writev = promisify(fs.writev);

export function writeAllSync(fd: number, views: Uint8Array[], position: number): void {
  let left = views;
  let at = position;
  while (left.length > 0) {
    const n = fs.writevSync(fd, left, at);
    if (n === 0) throw wroteNothing();
    at += n;
    left = rest(left, n);
  }
}

export async function writeAllAsync(fd: number, views: Uint8Array[], position: number): Promise<void> {
  let left = views;
  let at = position;
  while (left.length > 0) {
    const { bytesWritten } = await writev(fd, left, at);
    if (bytesWritten === 0) throw wroteNothing();
    at += bytesWritten;
    left = rest(left, bytesWritten);
  }
}

/** The views not yet written after `done` bytes. */
function rest(views: Uint8Array[], done: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (const v of views) {
    if (done >= v.length) {
      done -= v.length;
      continue;
    }
    out.push(done > 0 ? v.subarray(done) : v);
    done = 0;
  }
  return out;
}

function wroteNothing(): Error {
  return Object.assign(new Error('the kernel wrote nothing'), { code: 'EIO' });
}
