/**
 * Letting go of a file's backing descriptor. A descriptor with asynchronous
 * I/O in flight is never closed: the kernel hands a closed number to the next
 * open, and a write still queued on it would land in that other file (the
 * region, another cached file). It is parked instead: its lock released, the
 * number kept open until the last completion closes it (settleParked).
 */
import * as fs from 'node:fs';
import { native } from '../native';
import type { FileState } from './files';

/**
 * Releases the lock and closes the descriptor, or parks it while I/O is in
 * flight. With `retire` (the cache is closing: the region goes away under
 * that I/O), a parked descriptor is also pointed at /dev/null so that what is
 * still queued reads nothing and writes nowhere; its data stays dirty in the
 * region for the next open.
 */
export function releaseBacking(file: FileState, retire = false): void {
  if (!file.attached) return;
  try {
    native.unlock(file.fd);
  } catch {
    /* closing drops it anyway */
  }
  if (file.ioInFlight) {
    if (retire && !file.parked) native.retireDescriptor(file.fd);
    file.parked = true;
    return;
  }
  fs.closeSync(file.fd);
  file.fd = -1;
  file.writable = false;
  file.parked = false;
}

/** After an I/O completion: closes a parked descriptor once nothing is in flight. */
export function settleParked(file: FileState): void {
  if (!file.parked || file.ioInFlight) return;
  fs.closeSync(file.fd);
  file.fd = -1;
  file.writable = false;
  file.parked = false;
}
