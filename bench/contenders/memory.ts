/**
 * The two bounds that promise nothing: a file held in a JS Map of 4 KiB
 * Buffers (volatile: "no durability at all"), and a bare TypedArray.set into
 * a mapped tmpfs region with the same positions (the physical floor: the
 * copy every riocache write and read must do anyway).
 */
import * as fs from 'node:fs';
import { join } from 'node:path';
import { native } from '../../src/native';
import { prefillChunks, type ContenderDef, type Target, type TargetSetup } from './types';

const BLOCK = 4096;

/** A file as a Map from block number to a 4 KiB Buffer. */
class MapFile implements Target {
  private readonly blocks = new Map<number, Buffer>();
  private size = 0;

  write(src: Buffer, pos: number): void {
    const end = pos + src.length;
    let done = 0;
    while (done < src.length) {
      const at = pos + done;
      const block = Math.floor(at / BLOCK);
      let buf = this.blocks.get(block);
      if (buf === undefined) {
        buf = Buffer.alloc(BLOCK);
        this.blocks.set(block, buf);
      }
      const from = at - block * BLOCK;
      const n = Math.min(BLOCK - from, src.length - done);
      buf.set(n === src.length ? src : src.subarray(done, done + n), from);
      done += n;
    }
    if (end > this.size) this.size = end;
  }

  append(src: Buffer): void {
    this.write(src, this.size);
  }

  read(dst: Buffer, pos: number): void {
    let done = 0;
    while (done < dst.length) {
      const at = pos + done;
      const block = Math.floor(at / BLOCK);
      const from = at - block * BLOCK;
      const n = Math.min(BLOCK - from, dst.length - done);
      const buf = this.blocks.get(block);
      if (buf === undefined) dst.fill(0, done, done + n);
      else dst.set(from === 0 && n === BLOCK ? buf : buf.subarray(from, from + n), done);
      done += n;
    }
  }

  reset(): void {
    this.blocks.clear();
    this.size = 0;
  }

  info(): Record<string, number> {
    return {};
  }

  async close(): Promise<void> {}
}

export function mapOfBuffers(id: string, label: string): ContenderDef {
  return {
    id, label, family: 'map', mode: 'sync',
    async open(s) {
      const m = new MapFile();
      if (s.prefill !== 'none') for (const [chunk, pos] of prefillChunks(s.pattern, s.fileBytes)) m.write(chunk, pos);
      return m;
    },
  };
}

/**
 * The floor: one mapped view, copies in and out with TypedArray.set. With
 * `checksum`, every write also takes the crc32c of the bytes it copied (the
 * least a checksummed cache must do: the floor of an overwrite).
 */
class MappedFloor implements Target {
  private tail = 0;
  /** Every checksum, folded together, so no call can be elided. */
  crcs = 0;

  constructor(private readonly u8: Uint8Array, private readonly handle: object, private readonly checksum: boolean) {}

  write(src: Buffer, pos: number): void {
    this.u8.set(src, pos);
    if (this.checksum) this.crcs ^= native.crc32c(this.u8, pos, src.length);
  }

  append(src: Buffer): void {
    this.u8.set(src, this.tail);
    if (this.checksum) this.crcs ^= native.crc32c(this.u8, this.tail, src.length);
    this.tail += src.length;
  }

  read(dst: Buffer, pos: number): void {
    dst.set(this.u8.subarray(pos, pos + dst.length));
  }

  reset(): void {
    this.tail = 0;
  }

  info(): Record<string, number> {
    return {};
  }

  async close(): Promise<void> {
    native.unmap(this.handle);
  }
}

export function mappedFloor(id: string, label: string, checksum = false): ContenderDef {
  return {
    id, label, family: 'floor', mode: 'sync',
    async open(s: TargetSetup) {
      const bytes = Math.ceil(s.fileBytes / BLOCK) * BLOCK;
      const path = join(s.scratch.shm, 'floor.map');
      const fd = fs.openSync(path, 'w+', 0o600);
      fs.ftruncateSync(fd, bytes);
      // populate: every page faulted in now, as riocache's buffers are after its prefill.
      const m = native.map(fd, bytes, [[0, bytes]], true);
      fs.closeSync(fd);
      const u8 = new Uint8Array(m.views[0]);
      if (s.prefill !== 'none') for (const [chunk, pos] of prefillChunks(s.pattern, s.fileBytes)) u8.set(chunk, pos);
      return new MappedFloor(u8, m.handle, checksum);
    },
  };
}
