/**
 * Region format v1 as constants. docs/format.md is the description; this file
 * mirrors its tables (word indices are 32-bit words from the start of each
 * structure). Change both together.
 */

export const FORMAT_VERSION = 1;
export const MAGIC = 'RIOCACHE';
export const PAGE_BYTES = 4096;

// §1 areas
export const HEADER_SLOT_BYTES = 4096;
export const HEADER_SLOT_OFFSETS = [0, 4096] as const;
export const CONTROL_OFFSET = 8192;
export const CONTROL_BYTES = 4096;
export const REGISTRY_OFFSET = 12288;
export const REGION_BYTES_MIN = 64 * 1024;
export const BLOCK_BYTES_MIN = 512;
export const BLOCK_BYTES_MAX = 1024 * 1024;
export const BLOCK_BYTES_DEFAULT = 4096;
export const BUFFER_COUNT_MIN = 8;
export const DATA_VIEW_BYTES_MAX = 1024 ** 3;

// §2 header (byte offsets within a slot)
export const H = {
  magic: 0,
  version: 8,
  checkedBytes: 12,
  seq: 16,
  shutdown: 20,
  regionBytes: 24,
  blockBytes: 32,
  bufferCount: 36,
  fileSlots: 40,
  pathBytesMax: 44,
  registryOffset: 48,
  sizeTableOffset: 56,
  fileTable0Offset: 64,
  fileTable1Offset: 72,
  fileTableBytes: 80,
  undoOffset: 88,
  undoBytes: 96,
  segmentAreaOffset: 104,
  segmentAreaBytes: 112,
  dataOffset: 120,
  dataViewBytes: 128,
  uuid: 136,
  generation: 152,
  createdAt: 160,
  lastPid: 168,
  crc: 252,
} as const;
export const HEADER_CHECKED_BYTES = 256;
export const SHUTDOWN_CLEAN = 1;
export const SHUTDOWN_OPEN = 2;

// §3 control block (word indices from CONTROL_OFFSET)
export const C = {
  fileTableSelector: 0,
  lruHead: 1,
  lruTail: 2,
  dirtyHead: 3,
  dirtyTail: 4,
  opsCommitted: 5,
  recoveringPid: 6,
  ownerPid: 7,
  usedBound: 8,
  usedBoundCheck: 9,
} as const;
export const INTENT_BYTE = 256; // from CONTROL_OFFSET
export const I = {
  state: 0,
  op: 1,
  devLo: 2,
  devHi: 3,
  inoLo: 4,
  inoHi: 5,
  pathABytes: 6,
  pathBBytes: 7,
  check: 15,
} as const;
export const INTENT_PATH_A_BYTE = 64; // from the intent
export const INTENT_PATH_B_BYTE = 1088;
export const INTENT_PATH_BYTES_MAX = 1024;
export const INTENT_IDLE = 0;
export const INTENT_ARMED = 1;
export const INTENT_RENAME = 1;
export const INTENT_UNLINK = 2;
/** rm -r of a directory holding cached files: recovery finishes the removal (path A). */
export const INTENT_REMOVE_TREE = 3;

// §4 registry
export const DESCRIPTOR_BYTES = 64;
export const DESCRIPTOR_WORDS = 16;
export const D = {
  status: 0,
  file: 1,
  blockLo: 2,
  blockHi: 3,
  len0: 4,
  crc0: 5,
  len1: 6,
  crc1: 7,
  version: 8,
  lruNext: 9,
  lruPrev: 10,
  dirtyNext: 11,
  dirtyPrev: 12,
  fileGen: 13,
} as const;
export const FREE = 0;
export const CLEAN = 1;
export const DIRTY = 2;
export const WRITING = 3;
export const STATE_MASK = 3;
export const SEL_BIT = 4;
export const NIL = -1;
export const STATE_NAMES = ['free', 'clean', 'dirty', 'writing'] as const;

// §5 size table
export const SIZE_ENTRY_BYTES = 64;
export const SIZE_ENTRY_WORDS = 16;
export const S = {
  sel: 0,
  slot0: 1,
  slot1: 7,
  version: 13,
  stampMs: 14, // float64 at words 14-15
} as const;
/** Offsets within one size slot. */
export const SS = { sizeLo: 0, sizeHi: 1, zeroLo: 2, zeroHi: 3, flags: 4, check: 5 } as const;
export const SIZE_DIRTY = 1;
/** zeroFrom "none". */
export const ZERO_NONE = Number.MAX_SAFE_INTEGER;

// §6 file table
export const FILE_TABLE_MAGIC = 0x31544652; // 'RFT1' little-endian
export const FILE_TABLE_HEADER_BYTES = 64;
export const FILE_ENTRY_BYTES = 1024;
export const FILE_ENTRY_WORDS = 256;
export const FT = { magic: 0, seq: 1, slots: 2, entryBytes: 3, check: 15 } as const;
export const FE = {
  state: 0,
  generation: 1,
  devLo: 2,
  devHi: 3,
  inoLo: 4,
  inoHi: 5,
  pathBytes: 6,
  crc: 15,
} as const;
export const FILE_PATH_BYTE = 64;
export const PATH_BYTES_MAX = 480;
export const FILE_FREE = 0;
export const FILE_ACTIVE = 1;
export const FILE_ORPHAN = 2;
/** Created by a writeFile whose bytes are being committed before its name exists on the disk (§6). */
export const FILE_UNNAMED = 3;

// §7 undo area
export const UNDO_HEADER_BYTES = 64;
export const UNDO_BYTES_MIN = 64 * 1024;
export const U = {
  state: 0,
  seq: 1,
  kind: 2,
  recordCount: 3,
  recordBytes: 4,
  file: 5,
  offsetLo: 6,
  offsetHi: 7,
  length: 8,
  check: 15,
} as const;
export const UNDO_IDLE = 0;
export const UNDO_ACTIVE = 1;
export const UNDO_KIND_WRITE = 1;
export const UNDO_KIND_TRANSACTION = 2;
export const UNDO_RECORD_HEAD_BYTES = 48;
export const UR = { type: 0, seq: 10, check: 11 } as const;
export const UNDO_BYTES_RECORD = 1;
export const UNDO_SIZE_RECORD = 2;
export const UNDO_SEGMENT_RECORD = 3;

// §8 segment area
export const SEGMENT_DIRECTORY_ENTRIES = 64;
export const SEGMENT_ENTRY_BYTES = 64;
export const SEGMENT_NAME_BYTES_MAX = 40;
