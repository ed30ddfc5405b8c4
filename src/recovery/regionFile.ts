/**
 * The warm reboot's reads of dirty buffers, made through the region file
 * instead of the mapping (native/reads.cc): the recovering process has just
 * mapped the region, and the first touch of each page of a new mapping is a
 * page fault, several microseconds a page under a hypervisor that shadows
 * page tables, where the kernel copies the same bytes from its own pages
 * without one. Reads only: the region's bytes are the mapping's (one tmpfs
 * or disk file), so what is verified here is what the mapping holds.
 */
import { getSystemErrorName } from 'node:util';
import { systemError } from '../errors';
import { native } from '../native';
import type { Registry } from '../cache/registry';

/** Slots of a verify job (native verifyRegionFile): [region file offset, length, seed, expected, actual]. */
const VERIFY_SLOTS = 5;

export class RegionFile {
  private readonly scratch = new Float64Array(native.scratch);

  constructor(private readonly fd: number, private readonly dataOffset: number, private readonly reg: Registry) {}

  private offsetOf(b: number): number {
    return this.dataOffset + b * this.reg.blockBytes;
  }

  /**
   * The checksum of each buffer's first len(b) bytes under its identity,
   * index for index, and how many differ from the stored one; null when the
   * file could not be read (the caller verifies through the mapping).
   */
  verify(buffers: readonly number[]): { actual: Uint32Array; mismatches: number } | null {
    const reg = this.reg;
    const jobs = new Float64Array(buffers.length * VERIFY_SLOTS);
    buffers.forEach((b, i) => {
      const w = i * VERIFY_SLOTS;
      jobs[w] = this.offsetOf(b);
      jobs[w + 1] = reg.len(b);
      jobs[w + 2] = reg.seedOf(b);
      jobs[w + 3] = reg.crc(b);
    });
    this.scratch[0] = this.fd;
    native.verifyRegionFile(jobs, buffers.length);
    if (this.scratch[6] !== 0) return null;
    const actual = new Uint32Array(buffers.length);
    for (let i = 0; i < buffers.length; i++) actual[i] = jobs[i * VERIFY_SLOTS + 4];
    return { actual, mismatches: this.scratch[7] };
  }

  /**
   * Writes `lengths[i]` bytes of each buffer, consecutive in the data file
   * from `position`, to descriptor `fd`. A failed write (or read) throws as
   * fs.writeSync would: the caller leaves the data dirty (G10).
   */
  copy(fd: number, buffers: readonly number[], lengths: readonly number[], position: number): void {
    const jobs = new Float64Array(buffers.length * 2);
    buffers.forEach((b, i) => {
      jobs[2 * i] = this.offsetOf(b);
      jobs[2 * i + 1] = lengths[i];
    });
    const s = this.scratch;
    s[0] = this.fd;
    s[1] = fd;
    s[3] = position;
    native.copyRegionFile(jobs, buffers.length);
    if (s[6] !== 0) throw systemError(getSystemErrorName(-s[6]), 'write');
  }
}
