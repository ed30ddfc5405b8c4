/**
 * The oracle: an exact model of every file built from acknowledged
 * operations, and the check of a recovered directory against it.
 *
 *  G1  every acknowledged byte is there (a missing one is "lost", counted
 *      per acknowledged write that last wrote it);
 *  G2  the operation in flight at the kill is all there or not at all (a mix
 *      is "torn");
 *  G3  no acknowledged write survives while an earlier one is lost.
 * Besides: nothing the workload did not announce may appear (a file, or bytes
 * past a file's end, that no operation explains: "unexpected").
 */
import * as fs from 'node:fs';
import { join } from 'node:path';
import { hashOf, payload, type OpRecord } from './protocol';

/** A file's bytes and, per byte, the write that last wrote it; capacity grows geometrically. */
class FileModel {
  private data: Buffer;
  private who: Int32Array;
  length: number;

  constructor(data = Buffer.alloc(0), who = new Int32Array(0), length = 0) {
    this.data = data;
    this.who = who;
    this.length = length;
  }

  /** The file's bytes (a view, valid until the next change). */
  get bytes(): Buffer {
    return this.data.subarray(0, this.length);
  }

  /** Sequence number of the write that last wrote each byte (-1: a hole, zero bytes). */
  get writers(): Int32Array {
    return this.who.subarray(0, this.length);
  }

  resize(size: number): void {
    if (size > this.data.length) {
      const capacity = Math.max(size, this.data.length * 2, 4096);
      const data = Buffer.alloc(capacity);
      this.data.copy(data, 0, 0, this.length);
      const who = new Int32Array(capacity).fill(-1);
      who.set(this.who.subarray(0, this.length));
      this.data = data;
      this.who = who;
    } else if (size < this.length) {
      // Bytes past the end must read as zeros (holes) if the file grows again.
      this.data.fill(0, size, this.length);
      this.who.fill(-1, size, this.length);
    }
    this.length = size;
  }

  write(offset: number, bytes: Uint8Array, seq: number): void {
    if (offset + bytes.length > this.length) this.resize(offset + bytes.length);
    this.data.set(bytes, offset);
    this.who.fill(seq, offset, offset + bytes.length);
  }

  clone(): FileModel {
    return new FileModel(Buffer.from(this.bytes), this.writers.slice(), this.length);
  }
}

export class Model {
  readonly files = new Map<string, FileModel>();
  /** Segments, by name (transactional workloads). */
  readonly segments = new Map<string, Buffer>();

  constructor(readonly seed: number) {}

  clone(): Model {
    const m = new Model(this.seed);
    for (const [k, v] of this.files) m.files.set(k, v.clone());
    for (const [k, v] of this.segments) m.segments.set(k, Buffer.from(v));
    return m;
  }

  private ensure(file: string): FileModel {
    let f = this.files.get(file);
    if (!f) this.files.set(file, (f = new FileModel()));
    return f;
  }

  /** The bytes a write record stands for. */
  dataOf(r: Extract<OpRecord, { op: 'write' }>): Buffer {
    const data = r.data !== undefined ? Buffer.from(r.data, 'base64') : payload(this.seed, r.seq, r.length);
    if (hashOf(data) !== r.hash) throw new Error(`record ${r.seq}: the payload does not match its hash (harness bug)`);
    return data;
  }

  apply(r: OpRecord): void {
    switch (r.op) {
      case 'create':
        this.ensure(r.file);
        return;
      case 'write':
        this.ensure(r.file).write(r.offset, this.dataOf(r), r.seq);
        return;
      case 'truncate':
        this.ensure(r.file).resize(r.length);
        return;
      case 'rename': {
        if (r.from === r.to) return;
        for (const [path, f] of [...this.files]) {
          if (path === r.from || path.startsWith(r.from + '/')) {
            this.files.delete(path);
            this.files.set(r.to + path.slice(r.from.length), f);
          }
        }
        return;
      }
      case 'unlink':
        this.files.delete(r.file);
        return;
      case 'copy': {
        const from = this.files.get(r.from);
        if (from && r.from !== r.to) this.files.set(r.to, from.clone());
        return;
      }
      case 'rmtree':
        for (const path of [...this.files.keys()]) if (path === r.dir || path.startsWith(r.dir + '/')) this.files.delete(path);
        return;
      case 'fsync':
        return;
      case 'transfer':
        if (r.data) r.files.forEach((file, i) => this.ensure(file).write(0, Buffer.from(r.data![i], 'base64'), r.seq));
        if (r.segment) this.segments.set(r.segment.name, Buffer.from(r.segment.data, 'base64'));
        return;
    }
  }

  /** Replaces a byte range with what the disk holds (a quarantined block's range). */
  adopt(file: string, start: number, actual: Buffer): void {
    const f = this.files.get(file);
    if (!f) return;
    const end = Math.min(f.length, start + actual.length);
    if (end <= start) return;
    f.write(start, actual.subarray(0, end - start), -2);
  }
}

/** A range where a quarantined (corrupt) block left the disk's older bytes. */
export interface Excused {
  file: string;
  start: number;
  end: number;
  /** What the disk held there before recovery (zeros past its end or past a pending cut). */
  disk: Buffer;
}

export interface Verdict {
  ok: boolean;
  /** A byte of a damaged (quarantined) block reached its file: G5 broken. */
  corruptionWritten: boolean;
  /** The in-flight operation is visible (true), absent (false), or there was none (null). */
  applied: boolean | null;
  lost: number;
  torn: boolean;
  orderViolations: number;
  /** Files, or bytes past a file's expected end, that no announced operation explains. */
  unexpected: number;
  bytesVerified: number;
  details: string[];
}

/** The names of what a failed check can find. */
export const VERDICT_LABELS = {
  corruptionWritten: 'G5: a damaged buffer reached its file',
  torn: 'G2: the in-flight operation is torn',
  lost: 'G1: acknowledged data is missing',
  unexpected: 'unexpected data: a file or bytes no announced operation explains',
} as const;

/** The failure's name, from what the check found (most serious first, joined by "; " when several hold). */
export function verdictLabel(v: Verdict): string {
  const found: string[] = [];
  if (v.corruptionWritten) found.push(VERDICT_LABELS.corruptionWritten);
  if (v.torn) found.push(VERDICT_LABELS.torn);
  if (v.lost > 0) found.push(VERDICT_LABELS.lost);
  if (v.unexpected > 0) found.push(VERDICT_LABELS.unexpected);
  // Not reached: every difference verify() finds sets one of the above.
  return found.length > 0 ? found.join('; ') : 'the files differ from the model';
}

/** Regular files under root (relative paths), except lost+found. */
export function readTree(root: string): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  const walk = (rel: string) => {
    for (const e of fs.readdirSync(join(root, rel), { withFileTypes: true })) {
      const p = rel ? `${rel}/${e.name}` : e.name;
      if (p === 'lost+found' || p === '.riocache') continue; // the cache's own files
      if (e.isDirectory()) walk(p);
      else if (e.isFile()) out.set(p, fs.readFileSync(join(root, p)));
    }
  };
  walk('');
  return out;
}

function withExcuses(model: Model, excused: Excused[]): Model {
  if (excused.length === 0) return model;
  const m = model.clone();
  for (const x of excused) {
    const f = m.files.get(x.file);
    if (!f) continue;
    const end = Math.min(x.end, f.bytes.length);
    if (end > x.start) m.adopt(x.file, x.start, x.disk.subarray(0, end - x.start));
  }
  return m;
}

function same(model: Model, actual: Map<string, Buffer>, segments: Map<string, Buffer>): boolean {
  if (model.files.size !== actual.size) return false;
  for (const [path, f] of model.files) if (!actual.get(path)?.equals(f.bytes)) return false;
  for (const [name, bytes] of model.segments) if (!segments.get(name)?.equals(bytes)) return false;
  return true;
}

/** Compares the recovered tree with the model before and after the in-flight operation. */
export function verify(root: string, model: Model, pending: OpRecord | null, excused: Excused[] = [],
  segments = new Map<string, Buffer>()): Verdict {
  const actual = readTree(root);
  const before = withExcuses(model, excused);
  let bytesVerified = 0;
  for (const f of before.files.values()) bytesVerified += f.bytes.length;
  const passed = (applied: boolean | null): Verdict =>
    ({ ok: true, corruptionWritten: false, applied, lost: 0, torn: false, orderViolations: 0, unexpected: 0, bytesVerified, details: [] });
  if (same(before, actual, segments)) return passed(pending ? false : null);
  let after: Model | null = null;
  if (pending) {
    after = model.clone();
    after.apply(pending);
    after = withExcuses(after, excused);
    if (same(after, actual, segments)) return passed(true);
  }
  // Neither: find out what is missing and whether the in-flight write is torn.
  const details: string[] = [];
  const lostSeqs = new Set<number>();
  let torn = false;
  let unattributed = false;
  let unexpected = 0;
  let corruptionWritten = false;
  // Over the whole tree: files and bytes the in-flight operation changes that show it, and that do not.
  let shown = 0;
  let notShown = 0;
  const excusedAt = (path: string, i: number) => excused.some((x) => x.file === path && i >= x.start && i < x.end);
  const files = new Set([...before.files.keys(), ...actual.keys(), ...(after?.files.keys() ?? [])]);
  for (const path of files) {
    const b = before.files.get(path);
    const a = after?.files.get(path);
    const got = actual.get(path);
    if (after && !b !== !a) {
      // A file the in-flight operation creates, removes or renames: present or not, it shows the operation or not.
      if (!got === !b) notShown++;
      else shown++;
    }
    if (!got) {
      // Missing although the in-flight operation (if any) keeps it: its acknowledged creation and bytes are lost.
      if (b && (a || !after)) {
        details.push(`${path}: missing`);
        let attributed = false;
        for (const s of new Set(b.writers)) {
          if (s >= 0) {
            lostSeqs.add(s);
            attributed = true;
          }
        }
        if (!attributed) unattributed = true;
      }
      continue;
    }
    if (!b && !a) {
      unexpected++;
      details.push(`${path}: unexpected file (${got.length} bytes): no announced operation created it`);
      continue;
    }
    const ref = b ?? a!;
    if (got.length !== ref.bytes.length && (!a || got.length !== a.bytes.length)) {
      details.push(`${path}: ${got.length} bytes, expected ${ref.bytes.length}${a && a !== b ? ` or ${a.bytes.length}` : ''}`);
    }
    // Bytes the in-flight operation changes, by what they show: its new value, the old one, neither.
    let inflightNew = 0;
    let inflightOld = 0;
    let inflightNeither = 0;
    let extra = false;
    const expectedEnd = Math.max(b?.bytes.length ?? 0, a?.bytes.length ?? 0);
    const span = Math.max(got.length, expectedEnd);
    for (let i = 0; i < span; i++) {
      // -1 stands for "past the end": the byte is absent.
      const g = i < got.length ? got[i] : -1;
      const eb = b && i < b.bytes.length ? b.bytes[i] : -1;
      const ea = a && i < a.bytes.length ? a.bytes[i] : a ? -1 : eb;
      if (g === eb || g === ea) {
        if (a && b && ea !== eb) {
          if (g === ea) inflightNew++;
          else inflightOld++;
        }
        continue;
      }
      if (excusedAt(path, i)) {
        corruptionWritten = true;
        if (details.length < 20) details.push(`${path} @${i}: ${g}, expected ${eb}: a byte of a damaged buffer reached the file`);
        continue;
      }
      if (i >= expectedEnd) {
        // Past the end of the file before and after the in-flight operation: bytes nothing announced.
        if (!extra) details.push(`${path}: ${got.length - expectedEnd} unexpected bytes past its expected end (${expectedEnd})`);
        extra = true;
        break;
      }
      if (a && ea !== eb) {
        // A byte the in-flight operation changes, showing neither the old nor the new value: torn.
        inflightNeither++;
        if (details.length < 20) details.push(`${path} @${i}: ${g}, expected ${eb} (before) or ${ea} (after the in-flight operation)`);
        continue;
      }
      const writer = b && i < b.writers.length ? b.writers[i] : -1;
      if (writer >= 0) lostSeqs.add(writer);
      else unattributed = true;
      if (details.length < 20) details.push(`${path} @${i}: ${g}, expected ${eb} (last written by #${writer})`);
    }
    if (extra) unexpected++;
    shown += inflightNew;
    notShown += inflightOld;
    // Wholly there or wholly absent is not torn, whatever else differs (that is lost or unexpected data).
    if (inflightNeither > 0 || (inflightNew > 0 && inflightOld > 0)) {
      torn = true;
      details.push(`${path}: the in-flight operation is torn (${inflightNew} of its bytes present, ${inflightOld} absent` +
        `${inflightNeither ? `, ${inflightNeither} neither old nor new` : ''})`);
    }
  }
  for (const [name, bytes] of before.segments) {
    const got = segments.get(name);
    // Only a transaction in flight that writes this segment may leave it changed, and then whole.
    const inflight = pending?.op === 'transfer' && pending.segment?.name === name ? after?.segments.get(name) : undefined;
    if (got && inflight && !inflight.equals(bytes)) {
      if (got.equals(inflight)) shown++;
      else if (got.equals(bytes)) notShown++;
    }
    if (got && (got.equals(bytes) || (inflight && got.equals(inflight)))) continue;
    if (inflight) {
      details.push(`segment ${name}: matches neither the state before nor after the in-flight transaction`);
      torn = true;
    } else {
      details.push(`segment ${name}: ${got ? 'differs from' : 'missing, unlike'} its acknowledged state`);
      unattributed = true;
    }
  }
  // A wrong byte no acknowledged write explains (a hole, a resized file) still counts as one loss.
  const lost = lostSeqs.size + (unattributed && lostSeqs.size === 0 ? 1 : 0);
  if (pending && !torn && shown > 0 && notShown > 0) {
    // Each file shows the in-flight operation wholly or not at all, but not all the same way
    // (a rename that left both names, a transaction in one file and not the other): applied in part.
    torn = true;
    details.push(`the in-flight operation (#${pending.seq} ${pending.op}) is applied in part: some files show it, others do not`);
  }
  let newestSurviving = -1;
  for (const f of before.files.values()) for (const s of f.writers) if (s >= 0 && !lostSeqs.has(s)) newestSurviving = Math.max(newestSurviving, s);
  const orderViolations = [...lostSeqs].filter((s) => s < newestSurviving).length;
  return { ok: false, corruptionWritten, applied: null, lost, torn, orderViolations, unexpected, bytesVerified, details };
}
