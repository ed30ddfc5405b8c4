/**
 * riocache inspect: an fsck-style, read-only report on a region file. It
 * reads with pread and never maps, locks or writes, so it is safe on a region
 * a live process owns (whose in-flight state it may then catch mid-operation;
 * the report says so).
 */
import * as fs from 'node:fs';
import { native } from '../../native';
import { chooseHeader, decodeSlot } from '../../region/header';
import {
  CLEAN, DIRTY, FILE_ACTIVE, FILE_FREE, FILE_ORPHAN, FREE, HEADER_SLOT_BYTES, HEADER_SLOT_OFFSETS, NIL,
  STATE_NAMES, WRITING, ZERO_NONE,
} from '../../region/format';
import type { Geometry } from '../../region/geometry';
import type { RegionMemory } from '../../region/primitives';
import { FileTable } from '../../cache/fileTable';
import { NamespaceIntent } from '../../cache/intent';
import { DIRTY_LIST, List, LRU } from '../../cache/lists';
import { Registry } from '../../cache/registry';
import { SIZE_DIRTY, SizeTable } from '../../cache/sizes';
import { UndoLog } from '../../cache/undo';
import { checkRelativePath } from '../../cache/paths';
import { RioError } from '../../errors';

export type RegionVerdict = 'clean' | 'live' | 'crashed' | 'damaged' | 'unreadable';

export interface InspectedFile {
  slot: number;
  state: 'active' | 'orphan';
  path: string;
  size: number;
  sizeDirty: boolean;
  zeroFrom: number | null;
  cachedBlocks: number;
  dirtyBlocks: number;
  dirtyBytes: number;
}

export interface ListCheck {
  length: number;
  cycle: boolean;
  outOfRange: boolean;
  backLinkMismatches: number;
  missingMembers: number;
  strangers: number;
}

export interface InspectReport {
  path: string;
  verdict: RegionVerdict;
  owner: { pid: number | null; held: boolean };
  header: {
    slots: string[];
    current: number | null;
    version: number | null;
    shutdown: 'clean' | 'open' | null;
    generation: number | null;
    uuid: string | null;
    createdAt: string | null;
  };
  geometry: Geometry | null;
  buffers: { free: number; clean: number; dirty: number; writing: number };
  files: InspectedFile[];
  fileTable: { selected: number | null; headers: boolean[]; entriesBadInSelected: number; entriesBadInBoth: number };
  undo: { state: 'idle' | 'active'; records: number; damaged: boolean } | null;
  intent: string | null;
  lists: { lru: ListCheck; dirty: ListCheck } | null;
  checksums: { dirtyVerified: number; dirtyCorrupt: number };
  /** Every dirty buffer (with `listBuffers`): which block of which file it holds. */
  dirtyBuffers?: Array<{ buffer: number; file: string; block: number; length: number }>;
  problems: string[];
  /** Inconsistencies a crash can leave and recovery repairs (not damage). */
  repairable: string[];
}

/**
 * A read-only stand-in for RegionMemory: the metadata in a Buffer, data
 * blocks read on demand. It has no store methods at all.
 */
export function readOnlyMemory(fd: number, g: Geometry): RegionMemory {
  const meta = Buffer.alloc(g.dataOffset);
  fs.readSync(fd, meta, 0, g.dataOffset, 0);
  const ab = meta.buffer.slice(meta.byteOffset, meta.byteOffset + meta.byteLength);
  const views = Math.ceil((g.bufferCount * g.blockBytes) / g.dataViewBytes);
  const scratch = Buffer.alloc(g.blockBytes);
  return {
    i32: new Int32Array(ab),
    u32: new Uint32Array(ab),
    u8: new Uint8Array(ab),
    f64: new Float64Array(ab),
    metaId: -1,
    data: [],
    dataIds: Array.from({ length: views }, (_, i) => i),
    crc(viewId: number, offset: number, length: number, seed: number): number {
      const n = fs.readSync(fd, scratch, 0, length, g.dataOffset + viewId * g.dataViewBytes + offset);
      return native.crc32c(scratch, 0, n, seed);
    },
  } as unknown as RegionMemory;
}

function checkList(list: List, reg: Registry, isMember: (b: number) => boolean): ListCheck {
  const r: ListCheck = { length: 0, cycle: false, outOfRange: false, backLinkMismatches: 0, missingMembers: 0, strangers: 0 };
  const seen = new Uint8Array(reg.count);
  let prev = NIL;
  let b = list.head();
  for (let steps = 0; b !== NIL; steps++) {
    if (b < 0 || b >= reg.count) {
      r.outOfRange = true;
      break;
    }
    if (seen[b] || steps >= reg.count) {
      r.cycle = true;
      break;
    }
    seen[b] = 1;
    r.length++;
    if (!isMember(b)) r.strangers++;
    if (list.prev(b) !== prev) r.backLinkMismatches++;
    prev = b;
    b = list.next(b);
  }
  for (let x = 0; x < reg.count; x++) if (!seen[x] && isMember(x)) r.missingMembers++;
  return r;
}

export interface InspectOptions {
  /** Verify the checksum of every dirty buffer (reads them). Default true. */
  verify?: boolean;
  /** List every dirty buffer in the report. Default false. */
  listBuffers?: boolean;
}

export function inspectRegion(path: string, options: InspectOptions = {}): InspectReport {
  const verify = options.verify ?? true;
  const report: InspectReport = {
    path, verdict: 'clean', owner: { pid: null, held: false },
    header: { slots: [], current: null, version: null, shutdown: null, generation: null, uuid: null, createdAt: null },
    geometry: null, buffers: { free: 0, clean: 0, dirty: 0, writing: 0 }, files: [],
    fileTable: { selected: null, headers: [], entriesBadInSelected: 0, entriesBadInBoth: 0 },
    undo: null, intent: null, lists: null, checksums: { dirtyVerified: 0, dirtyCorrupt: 0 }, problems: [], repairable: [],
  };
  const fd = fs.openSync(path, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW);
  try {
    const owner = native.lockOwner(fd);
    report.owner = { held: owner !== 0, pid: owner > 0 ? owner : null };
    const size = fs.fstatSync(fd).size;
    const first = Buffer.alloc(HEADER_SLOT_BYTES * 2);
    fs.readSync(fd, first, 0, Math.min(first.length, size), 0);
    report.header.slots = HEADER_SLOT_OFFSETS.map((o) => decodeSlot(first.subarray(o, o + HEADER_SLOT_BYTES)).kind);
    let choice;
    try {
      if (size < HEADER_SLOT_BYTES * 2) throw new RioError('REGION_TOO_SMALL', `REGION_TOO_SMALL: ${size} bytes`);
      choice = chooseHeader(first, path);
    } catch (err) {
      report.verdict = 'unreadable';
      report.problems.push((err as Error).message);
      return report;
    }
    const h = choice.header;
    const g = h.geometry;
    report.header = { ...report.header, current: choice.slot, version: h.version, shutdown: h.shutdown, generation: h.generation,
      uuid: h.uuid, createdAt: new Date(h.createdAt).toISOString() };
    report.geometry = g;
    if (choice.other !== 'valid') report.repairable.push(`header slot ${1 - choice.slot} is ${choice.other} (the other slot is current)`);
    if (size < g.regionBytes) {
      report.verdict = 'unreadable';
      report.problems.push(`REGION_TRUNCATED: the file is ${size} bytes, its header says ${g.regionBytes}`);
      return report;
    }
    examine(fd, g, report, verify, options.listBuffers ?? false);
  } finally {
    fs.closeSync(fd);
  }
  const crashed = report.header.shutdown === 'open' && !report.owner.held;
  if (report.problems.length > 0) report.verdict = 'damaged';
  else if (report.owner.held) report.verdict = 'live';
  else if (crashed) report.verdict = 'crashed';
  else if (report.repairable.length > 0) {
    // After a clean close nothing may need repair: what would be routine after a crash is damage here.
    report.problems.push(...report.repairable.map((r) => `after a clean close: ${r}`));
    report.verdict = 'damaged';
  }
  return report;
}

function examine(fd: number, g: Geometry, report: InspectReport, verify: boolean, listBuffers: boolean): void {
  if (listBuffers) report.dirtyBuffers = [];
  const mem = readOnlyMemory(fd, g);
  const reg = new Registry(mem, g);
  const table = new FileTable(mem, g);
  const sizes = new SizeTable(mem, g);
  const undo = new UndoLog(mem, g);
  const intent = new NamespaceIntent(mem);
  const sel = table.selected();
  report.fileTable.selected = sel;
  report.fileTable.headers = [table.headerValid(0), table.headerValid(1)];
  if (!report.fileTable.headers[sel]) report.problems.push(`file table copy ${sel} (selected) has a damaged header`);

  const entries = [];
  for (let s = 0; s < g.fileSlots; s++) {
    const a = table.readEntry(sel, s);
    if (!a.valid) {
      report.fileTable.entriesBadInSelected++;
      const b = table.readEntry((1 - sel) as 0 | 1, s);
      if (!b.valid) {
        report.fileTable.entriesBadInBoth++;
        report.problems.push(`file table entry ${s} fails its checksum in both copies`);
      } else {
        report.problems.push(`file table entry ${s} fails its checksum in the selected copy (the other copy is valid)`);
      }
      entries.push(b.valid ? b.entry : null);
      continue;
    }
    if (a.entry.state !== FILE_FREE && !checkRelativePath(a.entry.path)) {
      report.problems.push(`file table entry ${s} holds an unsafe path ${JSON.stringify(a.entry.path)}`);
    }
    entries.push(a.entry);
  }

  if (undo.isActive()) {
    const c = undo.read();
    report.undo = { state: 'active', records: c?.records.length ?? 0, damaged: c === null || c.damaged > 0 };
    if (c === null || c.damaged > 0) report.problems.push('the undo area is armed and damaged');
    else report.repairable.push(`an interrupted write to file slot ${c.file} (${c.records.length} undo records) will be rolled back`);
  } else {
    report.undo = { state: 'idle', records: 0, damaged: false };
  }
  const it = intent.read();
  if (it === 'damaged') {
    report.intent = 'damaged';
    report.problems.push('an armed rename/unlink record is damaged');
  } else if (it) {
    report.intent = `${it.op === 1 ? 'rename' : 'unlink'} ${it.from}${it.to ? ' -> ' + it.to : ''}`;
    report.repairable.push(`an interrupted ${report.intent} will be completed`);
  }

  const lru = new List(mem, reg, LRU);
  const dirtyList = new List(mem, reg, DIRTY_LIST);
  report.lists = {
    lru: checkList(lru, reg, (b) => reg.state(b) !== FREE),
    dirty: checkList(dirtyList, reg, (b) => (reg.state(b) & 2) !== 0),
  };
  for (const [name, l] of Object.entries(report.lists)) {
    const parts: string[] = [];
    if (l.cycle) parts.push('a cycle');
    if (l.outOfRange) parts.push('a link out of range');
    if (l.backLinkMismatches) parts.push(`${l.backLinkMismatches} back-links disagreeing with forward links`);
    if (l.missingMembers) parts.push(`${l.missingMembers} members not reachable`);
    if (l.strangers) parts.push(`${l.strangers} non-members on the list`);
    if (parts.length > 0) report.repairable.push(`${name} list: ${parts.join(', ')}`);
  }

  const files = new Map<number, InspectedFile>();
  entries.forEach((e, s) => {
    if (!e || (e.state !== FILE_ACTIVE && e.state !== FILE_ORPHAN)) return;
    const st = sizes.readSlot(s);
    if (!st.valid) report.problems.push(`the size of file slot ${s} (${e.path}) fails its check`);
    files.set(s, {
      slot: s, state: e.state === FILE_ACTIVE ? 'active' : 'orphan', path: e.path, size: st.size,
      sizeDirty: (st.flags & SIZE_DIRTY) !== 0, zeroFrom: st.zeroFrom >= ZERO_NONE ? null : st.zeroFrom,
      cachedBlocks: 0, dirtyBlocks: 0, dirtyBytes: 0,
    });
  });
  const seen = new Map<string, number>();
  for (let b = 0; b < reg.count; b++) {
    const state = reg.state(b);
    const key = STATE_NAMES[state] as 'free' | 'clean' | 'dirty' | 'writing';
    report.buffers[key]++;
    if (state === FREE) continue;
    const slot = reg.file(b);
    const f = files.get(slot);
    const e = entries[slot];
    if (!f || !e || reg.fileGen(b) !== e.generation) {
      const msg = `buffer ${b} (${STATE_NAMES[state]}) names file slot ${slot}, which holds no such file`;
      if (state === CLEAN) report.repairable.push(msg);
      else report.problems.push(msg);
      continue;
    }
    const id = `${slot}:${reg.block(b)}`;
    const twin = seen.get(id);
    if (twin !== undefined) {
      if (reg.version(twin) === reg.version(b)) report.problems.push(`two buffers hold ${f.path} block ${reg.block(b)} at the same version`);
      else report.repairable.push(`buffers ${twin} and ${b} hold ${f.path} block ${reg.block(b)} (a cut shadow write: the newer version wins)`);
    }
    seen.set(id, b);
    f.cachedBlocks++;
    const len = reg.len(b);
    if (len < 0 || len > g.blockBytes) {
      report.problems.push(`buffer ${b} has an impossible length ${len}`);
      continue;
    }
    const want = Math.max(0, Math.min(g.blockBytes, f.size - reg.block(b) * g.blockBytes));
    if (len > want) report.repairable.push(`buffer ${b} (${f.path}) holds ${len - want} bytes past the file's size`);
    if (len < want) report.problems.push(`buffer ${b} (${f.path}) holds ${len} bytes where the file has ${want}`);
    if (state === DIRTY || state === WRITING) {
      report.dirtyBuffers?.push({ buffer: b, file: f.path, block: reg.block(b), length: len });
      f.dirtyBlocks++;
      f.dirtyBytes += Math.min(len, want);
      if (verify) {
        const actual = reg.compute(b, len);
        report.checksums.dirtyVerified++;
        if (actual !== reg.crc(b)) {
          report.checksums.dirtyCorrupt++;
          report.problems.push(`dirty buffer ${b} (${f.path} @ ${reg.block(b) * g.blockBytes}) fails its checksum: ` +
            `stored ${reg.crc(b).toString(16)}, computed ${actual.toString(16)}`);
        }
      }
    }
  }
  report.files = [...files.values()].sort((a, b) => a.path.localeCompare(b.path));
}
