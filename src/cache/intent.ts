/**
 * The namespace intent (docs/format.md §3): one rename or unlink in flight.
 * Arming it (Atomics.store) is the commit of the operation: from then on,
 * recovery completes it, redoing the disk step only while the path still
 * holds the recorded inode, so completing twice equals once.
 */
import { crc32cBytes, crc32cWords } from '../region/checksum';
import {
  CONTROL_OFFSET, I, INTENT_ARMED, INTENT_BYTE, INTENT_IDLE, INTENT_PATH_A_BYTE, INTENT_PATH_B_BYTE,
  INTENT_PATH_BYTES_MAX, INTENT_RENAME, INTENT_UNLINK,
} from '../region/format';
import type { RegionMemory } from '../region/primitives';

export { INTENT_RENAME, INTENT_UNLINK, INTENT_PATH_BYTES_MAX };

export interface Intent {
  op: number;
  dev: number;
  ino: number;
  from: string;
  to: string;
}

const HI = 2 ** 32;
const base = CONTROL_OFFSET + INTENT_BYTE;
const w0 = base / 4;

function check(mem: RegionMemory): number {
  // Word 0 is taken as ARMED so that arming does not change the checksum.
  const head = crc32cWords(Int32Array.of(INTENT_ARMED), 0, 1);
  const words = crc32cWords(mem.i32, w0 + 1, I.check - 1, head);
  const a = crc32cBytes(mem.u8, base + INTENT_PATH_A_BYTE, mem.i32[w0 + I.pathABytes], words);
  return crc32cBytes(mem.u8, base + INTENT_PATH_B_BYTE, mem.i32[w0 + I.pathBBytes], a) | 0;
}

export class NamespaceIntent {
  constructor(private readonly mem: RegionMemory) {}

  arm(op: number, dev: number, ino: number, from: string, to: string): void {
    const mem = this.mem;
    const a = Buffer.from(from, 'utf8');
    const b = Buffer.from(to, 'utf8');
    if (a.length > INTENT_PATH_BYTES_MAX || b.length > INTENT_PATH_BYTES_MAX) throw new Error('internal: intent path too long');
    mem.store(w0 + I.op, op);
    mem.store(w0 + I.devLo, dev % HI | 0);
    mem.store(w0 + I.devHi, Math.floor(dev / HI));
    mem.store(w0 + I.inoLo, ino % HI | 0);
    mem.store(w0 + I.inoHi, Math.floor(ino / HI));
    mem.store(w0 + I.pathABytes, a.length);
    mem.store(w0 + I.pathBBytes, b.length);
    mem.writeBytes(mem.metaId, base + INTENT_PATH_A_BYTE, a);
    mem.writeBytes(mem.metaId, base + INTENT_PATH_B_BYTE, b);
    mem.store(w0 + I.check, check(mem));
    mem.persist(mem.metaId, base, INTENT_PATH_B_BYTE + b.length);
    mem.commit(w0 + I.state, INTENT_ARMED);
    mem.persistWord(w0 + I.state);
  }

  disarm(): void {
    this.mem.commit(w0 + I.state, INTENT_IDLE);
    this.mem.persistWord(w0 + I.state);
  }

  /** The armed intent, null when idle, or 'damaged' when armed but failing its checksum. */
  read(): Intent | null | 'damaged' {
    const i32 = this.mem.i32;
    if (i32[w0 + I.state] === INTENT_IDLE) return null;
    const la = i32[w0 + I.pathABytes];
    const lb = i32[w0 + I.pathBBytes];
    if (i32[w0 + I.state] !== INTENT_ARMED || la < 0 || lb < 0 || la > INTENT_PATH_BYTES_MAX || lb > INTENT_PATH_BYTES_MAX) {
      return 'damaged';
    }
    if (check(this.mem) !== i32[w0 + I.check]) return 'damaged';
    const u8 = this.mem.u8;
    const str = (off: number, len: number) => Buffer.from(u8.buffer, u8.byteOffset + base + off, len).toString('utf8');
    return {
      op: i32[w0 + I.op],
      dev: (i32[w0 + I.devLo] >>> 0) + (i32[w0 + I.devHi] >>> 0) * HI,
      ino: (i32[w0 + I.inoLo] >>> 0) + (i32[w0 + I.inoHi] >>> 0) * HI,
      from: str(INTENT_PATH_A_BYTE, la),
      to: str(INTENT_PATH_B_BYTE, lb),
    };
  }
}
