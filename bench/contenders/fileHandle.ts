/** A Target over a promise FileHandle: fs.promises' and riocache's have the same calls. */
import type { Target } from './types';

/** The FileHandle calls the trials use, common to fs.promises and cache.fs.promises. */
interface Handle {
  write(src: Buffer, offset?: number, length?: number, position?: number): Promise<unknown>;
  read(dst: Buffer, offset: number, length: number, position: number): Promise<unknown>;
  datasync(): Promise<void>;
  truncate(len: number): Promise<void>;
  close(): Promise<void>;
}

export class FileHandleTarget implements Target {
  constructor(
    private readonly fh: Handle,
    private readonly datasync: boolean,
    private readonly counters: () => Record<string, number> = () => ({}),
    /** What close does: fs closes its handle; riocache leaves it to the cache's close. */
    private readonly onClose: (fh: Handle) => Promise<void> = (fh) => fh.close(),
  ) {}

  async write(src: Buffer, pos: number): Promise<void> {
    await this.fh.write(src, 0, src.length, pos);
    if (this.datasync) await this.fh.datasync();
  }

  async append(src: Buffer): Promise<void> {
    await this.fh.write(src);
    if (this.datasync) await this.fh.datasync();
  }

  async read(dst: Buffer, pos: number): Promise<void> {
    await this.fh.read(dst, 0, dst.length, pos);
  }

  reset(): Promise<void> {
    return this.fh.truncate(0);
  }

  info(): Record<string, number> {
    return this.counters();
  }

  close(): Promise<void> {
    return this.onClose(this.fh);
  }
}
