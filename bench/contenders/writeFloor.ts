/**
 * The floor of a write that reaches the file through a region: the copy into
 * a mapped tmpfs region, a crc32c of the bytes copied, and a copy out of the
 * mapping (where the kernel's write takes them from). Every write riocache
 * puts through its region and writes back does at least this; a write
 * around the cache does a single copy (plain fs's). Sync only, no
 * durability: a bound, not a peer. Used by write trials only, so the
 * mapping starts zeroed whatever the prefill (what the writes overwrite does
 * not matter to their cost).
 */
import * as fs from 'node:fs';
import { join } from 'node:path';
import { native } from '../../src/native';
import type { ContenderDef, Target, TargetSetup } from './types';

const BLOCK = 4096;

class CopyCrcCopy implements Target {
  private out = Buffer.alloc(0);
  private tail = 0;
  /** Keeps the checksums live, so the JIT cannot drop them. */
  private crcs = 0;

  constructor(private readonly u8: Uint8Array, private readonly handle: object) {}

  write(src: Buffer, pos: number): void {
    this.u8.set(src, pos);
    // The path riocache's buffers use (RIOCACHE_CRC32C forces one).
    this.crcs ^= native.crc32c(this.u8, pos, src.length);
    if (this.out.length < src.length) this.out = Buffer.alloc(src.length);
    this.out.set(this.u8.subarray(pos, pos + src.length));
  }

  append(src: Buffer): void {
    this.write(src, this.tail);
    this.tail += src.length;
  }

  read(dst: Buffer, pos: number): void {
    dst.set(this.u8.subarray(pos, pos + dst.length));
  }

  reset(): void {
    this.tail = 0;
  }

  info(): Record<string, number> {
    return { crcParity: this.crcs & 1 };
  }

  async close(): Promise<void> {
    native.unmap(this.handle);
  }
}

export function copyCrcCopyFloor(id: string, label: string): ContenderDef {
  return {
    id, label, family: 'floor', mode: 'sync',
    async open(s: TargetSetup) {
      const bytes = Math.ceil(s.fileBytes / BLOCK) * BLOCK;
      const path = join(s.scratch.shm, 'write-floor.map');
      const fd = fs.openSync(path, 'w+', 0o600);
      fs.ftruncateSync(fd, bytes);
      const m = native.map(fd, bytes, [[0, bytes]], true); // populated, as riocache's buffers are
      fs.closeSync(fd);
      return new CopyCrcCopy(new Uint8Array(m.views[0]), m.handle);
    },
  };
}
