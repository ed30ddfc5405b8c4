/** Node's own fs on the same disk: writeSync/readSync, write + fdatasync, and fs.promises FileHandles. */
import * as fs from 'node:fs';
import { join } from 'node:path';
import { prefillChunks, type ContenderDef, type Target, type TargetSetup } from './types';
import { FileHandleTarget } from './fileHandle';

export interface FsOptions {
  api: 'sync' | 'promise';
  /** fdatasync after every write. */
  datasync?: boolean;
}

function createFile(s: TargetSetup): string {
  const path = join(s.scratch.disk, 'bench.dat');
  const fd = fs.openSync(path, 'w');
  if (s.prefill !== 'none') {
    for (const [chunk, pos] of prefillChunks(s.pattern, s.fileBytes)) fs.writeSync(fd, chunk, 0, chunk.length, pos);
    fs.fdatasyncSync(fd); // start with nothing dirty in the page cache, as riocache starts flushed
  }
  fs.closeSync(fd);
  return path;
}

class FsSync implements Target {
  private readonly fd: number;

  constructor(path: string, flags: string, private readonly datasync: boolean) {
    this.fd = fs.openSync(path, flags);
  }

  write(src: Buffer, pos: number): void {
    fs.writeSync(this.fd, src, 0, src.length, pos);
    if (this.datasync) fs.fdatasyncSync(this.fd);
  }

  append(src: Buffer): void {
    fs.writeSync(this.fd, src);
    if (this.datasync) fs.fdatasyncSync(this.fd);
  }

  read(dst: Buffer, pos: number): void {
    fs.readSync(this.fd, dst, 0, dst.length, pos);
  }

  reset(): void {
    fs.ftruncateSync(this.fd, 0);
  }

  info(): Record<string, number> {
    return {};
  }

  async close(): Promise<void> {
    fs.closeSync(this.fd);
  }
}

export function nodeFs(id: string, label: string, o: FsOptions): ContenderDef {
  return {
    id, label, family: 'fs', mode: o.api === 'sync' ? 'sync' : 'async',
    async open(s) {
      const path = createFile(s);
      const flags = s.append ? 'a+' : 'r+';
      if (o.api === 'sync') return new FsSync(path, flags, o.datasync === true);
      return new FileHandleTarget(await fs.promises.open(path, flags), o.datasync === true);
    },
  };
}
