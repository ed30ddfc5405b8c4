/**
 * lmdb as a key-value peer: a write of `src` at byte position p is put(p, src)
 * (binary values, numeric keys); an append is put(sequence, src); a read is
 * getBinaryFast(p) copied into the caller's buffer. 'default' is lmdb-js's
 * default options (only the encoding set to binary); 'nosync' adds
 * noSync + useWritemap, its fastest and least durable setting.
 */
import { join } from 'node:path';
import type { Database, RootDatabase } from 'lmdb';
import { recordAt, type ContenderDef, type Target, type TargetSetup } from './types';

export type LmdbFlavour = 'default' | 'nosync';

export interface LmdbOptions {
  api: 'sync' | 'async';
  flavour: LmdbFlavour;
}

function openDb(s: TargetSetup, flavour: LmdbFlavour): RootDatabase<Buffer, number> {
  // Loaded here, so other contenders' processes never pay for it.
  const { open } = require('lmdb') as typeof import('lmdb');
  const options = flavour === 'nosync' ? { noSync: true, useWritemap: true } : {};
  const db = open<Buffer, number>({ path: join(s.scratch.disk, 'lmdb'), encoding: 'binary', ...options });
  if (s.prefill !== 'none') {
    db.transactionSync(() => {
      for (let pos = 0; pos + s.recordBytes <= s.fileBytes; pos += s.recordBytes) db.put(pos, recordAt(s.pattern, pos, s.recordBytes));
    });
  }
  return db;
}

class LmdbSync implements Target {
  private seq = 0;

  constructor(private readonly db: Database<Buffer, number>) {}

  write(src: Buffer, pos: number): void {
    this.db.putSync(pos, src);
  }

  append(src: Buffer): void {
    this.db.putSync(this.seq++, src);
  }

  read(dst: Buffer, pos: number): void {
    const v = this.db.getBinaryFast(pos);
    if (v) dst.set(v.subarray(0, dst.length));
  }

  reset(): void {
    this.db.clearSync();
    this.seq = 0;
  }

  info(): Record<string, number> {
    return {};
  }

  async close(): Promise<void> {
    await this.db.close();
  }
}

class LmdbAsync implements Target {
  private seq = 0;

  constructor(private readonly db: Database<Buffer, number>) {}

  async write(src: Buffer, pos: number): Promise<void> {
    await this.db.put(pos, src);
  }

  async append(src: Buffer): Promise<void> {
    await this.db.put(this.seq++, src);
  }

  async read(dst: Buffer, pos: number): Promise<void> {
    const v = this.db.getBinaryFast(pos);
    if (v) dst.set(v.subarray(0, dst.length));
  }

  async reset(): Promise<void> {
    await this.db.clearAsync();
    this.seq = 0;
  }

  info(): Record<string, number> {
    return {};
  }

  async close(): Promise<void> {
    await this.db.close();
  }
}

export function lmdb(id: string, label: string, o: LmdbOptions): ContenderDef {
  return {
    id, label, family: 'lmdb', mode: o.api,
    async open(s) {
      const db = openDb(s, o.flavour);
      return o.api === 'sync' ? new LmdbSync(db) : new LmdbAsync(db);
    },
  };
}
