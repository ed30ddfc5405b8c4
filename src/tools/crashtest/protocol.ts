/**
 * What a workload tells the harness, one line per message on a pipe:
 *   I <json>   an operation is about to run (its intent)
 *   A <seq>    it returned: acknowledged
 * Both are written with a blocking write before the workload goes on, so a
 * line the child wrote survives its SIGKILL (it is in the kernel's pipe).
 */
import { createHash } from 'node:crypto';

export type OpRecord =
  | { seq: number; op: 'write'; file: string; offset: number; length: number; hash: string; data?: string }
  | { seq: number; op: 'truncate'; file: string; length: number }
  | { seq: number; op: 'create'; file: string }
  | { seq: number; op: 'rename'; from: string; to: string }
  | { seq: number; op: 'unlink'; file: string }
  /** copyFile: `to` becomes what `from` holds. */
  | { seq: number; op: 'copy'; from: string; to: string }
  /** rm -r: every file under `dir` goes. */
  | { seq: number; op: 'rmtree'; dir: string }
  | { seq: number; op: 'fsync'; file: string }
  | {
      seq: number; op: 'transfer'; from: number; to: number; amount: number;
      /** Post-images of whole files (base64), and of a segment. */
      files: string[]; data?: string[]; segment?: { name: string; data: string };
    };

/** Deterministic bytes for write `seq` of a campaign: the harness rebuilds them instead of shipping them. */
export function payload(seed: number, seq: number, length: number): Buffer {
  const out = Buffer.allocUnsafe(length);
  let a = (Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(seq + 1, 0xc2b2ae35)) >>> 0;
  let i = 0;
  for (; i + 4 <= length; i += 4) {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out.writeUInt32LE((t ^ (t >>> 14)) >>> 0, i);
  }
  for (; i < length; i++) out[i] = (a >>> (8 * (i & 3))) & 0xff;
  return out;
}

export function hashOf(bytes: Uint8Array): string {
  return createHash('sha1').update(bytes).digest('hex').slice(0, 16);
}

export function encode(kind: 'I' | 'A' | 'R' | 'X', body: unknown): string {
  return `${kind} ${JSON.stringify(body)}\n`;
}

export interface Message {
  kind: 'I' | 'A' | 'R' | 'X';
  body: any;
}

/** Splits a stream into messages; keeps a partial last line for the next chunk. */
export class LineReader {
  private rest = '';
  feed(chunk: string): Message[] {
    const text = this.rest + chunk;
    const lines = text.split('\n');
    this.rest = lines.pop() ?? '';
    return lines.filter((l) => l.length > 2).map((l) => ({ kind: l[0] as Message['kind'], body: JSON.parse(l.slice(2)) }));
  }
}
