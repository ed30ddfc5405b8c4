/**
 * Where each area of a region lives, computed from the creation options. The
 * same function is used at creation and to check an existing header, so the
 * two can never drift apart.
 */
import {
  BLOCK_BYTES_MAX, BLOCK_BYTES_MIN, BUFFER_COUNT_MIN, DATA_VIEW_BYTES_MAX, DESCRIPTOR_BYTES,
  FILE_ENTRY_BYTES, FILE_TABLE_HEADER_BYTES, PAGE_BYTES, REGION_BYTES_MIN, REGISTRY_OFFSET,
  SEGMENT_DIRECTORY_ENTRIES, SEGMENT_ENTRY_BYTES, SIZE_ENTRY_BYTES, UNDO_BYTES_MIN, UNDO_HEADER_BYTES,
  UNDO_RECORD_HEAD_BYTES,
} from './format';
import { outOfRange } from '../errors';
import { formatBytes, isPowerOfTwo } from '../options';

export interface Geometry {
  regionBytes: number;
  blockBytes: number;
  bufferCount: number;
  fileSlots: number;
  registryOffset: number;
  sizeTableOffset: number;
  fileTableOffsets: [number, number];
  fileTableBytes: number;
  undoOffset: number;
  undoBytes: number;
  segmentAreaOffset: number;
  segmentAreaBytes: number;
  dataOffset: number;
  dataViewBytes: number;
}

export interface GeometryRequest {
  regionBytes: number;
  blockBytes: number;
  fileSlots: number;
  undoBytes: number;
  segmentAreaBytes: number;
}

const roundUp = (n: number, to: number) => Math.ceil(n / to) * to;

/** Defaults that scale with the region: small test regions stay small. */
export function defaultFileSlots(regionBytes: number): number {
  return Math.min(1024, Math.max(16, Math.floor(regionBytes / (64 * 1024))));
}

/**
 * Bytes of an undo record saving `count` bytes (UndoLog.recordBytes: a head,
 * then the bytes padded to 8).
 */
function undoRecordBytes(count: number): number {
  return UNDO_RECORD_HEAD_BYTES + ((count + 7) & ~7);
}

/**
 * Blocks one write may touch and stay one atomic operation (G2): a quarter of
 * the buffers (the rest stay free for everybody else), and what the undo area
 * holds: after the header and the size record, one full-block record per
 * block, less one for the file's old last block (a write starting past it
 * grows it with zeros). A write of `(writeBlocksMax - 1) * blockBytes` bytes
 * touches at most writeBlocksMax blocks of its own, whatever its alignment.
 * Engine.atomicWriteBytesMax is derived from this.
 */
export function writeBlocksMax(g: Pick<Geometry, 'bufferCount' | 'blockBytes' | 'undoBytes'>): number {
  const undoBlocks = Math.floor((g.undoBytes - UNDO_HEADER_BYTES - undoRecordBytes(0)) / undoRecordBytes(g.blockBytes)) - 1;
  return Math.min(Math.floor(g.bufferCount / 4), undoBlocks);
}

/**
 * The smallest undo area (a multiple of 4096) in which a write of
 * `wholeBlocks` whole blocks is one atomic operation: writeBlocksMax must
 * reach wholeBlocks + 1.
 */
export function undoBytesFor(blockBytes: number, wholeBlocks: number): number {
  const records = wholeBlocks + 2; // wholeBlocks + 1 touched blocks, + 1 of slack
  return roundUp(UNDO_HEADER_BYTES + undoRecordBytes(0) + records * undoRecordBytes(blockBytes), PAGE_BYTES);
}

/**
 * 1/16 of the region, 64 KiB to 64 MiB, and never less than room for an
 * atomic write of two whole blocks (large blocks on a small region).
 */
export function defaultUndoBytes(regionBytes: number, blockBytes: number): number {
  const share = Math.min(64 * 1024 * 1024, Math.max(UNDO_BYTES_MIN, roundUp(Math.floor(regionBytes / 16), PAGE_BYTES)));
  return Math.max(share, undoBytesFor(blockBytes, 2));
}

function layout(req: GeometryRequest, bufferCount: number): Geometry {
  const registryBytes = roundUp(bufferCount * DESCRIPTOR_BYTES, PAGE_BYTES);
  const sizeTableOffset = REGISTRY_OFFSET + registryBytes;
  const fileTableOffset0 = sizeTableOffset + roundUp(req.fileSlots * SIZE_ENTRY_BYTES, PAGE_BYTES);
  const fileTableBytes = roundUp(FILE_TABLE_HEADER_BYTES + req.fileSlots * FILE_ENTRY_BYTES, PAGE_BYTES);
  const fileTableOffset1 = fileTableOffset0 + fileTableBytes;
  const undoOffset = fileTableOffset1 + fileTableBytes;
  const segmentAreaOffset = undoOffset + req.undoBytes;
  const dataOffset = roundUp(segmentAreaOffset + req.segmentAreaBytes, Math.max(PAGE_BYTES, req.blockBytes));
  let dataViewBytes = DATA_VIEW_BYTES_MAX;
  const dataBytes = bufferCount * req.blockBytes;
  while (dataViewBytes > req.blockBytes && dataViewBytes / 2 >= dataBytes) dataViewBytes /= 2;
  return {
    regionBytes: req.regionBytes,
    blockBytes: req.blockBytes,
    bufferCount,
    fileSlots: req.fileSlots,
    registryOffset: REGISTRY_OFFSET,
    sizeTableOffset,
    fileTableOffsets: [fileTableOffset0, fileTableOffset1],
    fileTableBytes,
    undoOffset,
    undoBytes: req.undoBytes,
    segmentAreaOffset,
    segmentAreaBytes: req.segmentAreaBytes,
    dataOffset,
    dataViewBytes,
  };
}

export function endOfData(g: Geometry): number {
  return g.dataOffset + g.bufferCount * g.blockBytes;
}

/** The layout with the most buffers that fits in regionBytes. */
export function computeGeometry(req: GeometryRequest): Geometry {
  if (!isPowerOfTwo(req.blockBytes) || req.blockBytes < BLOCK_BYTES_MIN || req.blockBytes > BLOCK_BYTES_MAX) {
    throw outOfRange('blockSize', `a power of two from ${BLOCK_BYTES_MIN} to ${BLOCK_BYTES_MAX}`, req.blockBytes);
  }
  if (req.regionBytes < REGION_BYTES_MIN) {
    throw outOfRange('size', `at least ${formatBytes(REGION_BYTES_MIN)}`, req.regionBytes);
  }
  if (req.undoBytes % PAGE_BYTES !== 0 || req.undoBytes < UNDO_BYTES_MIN) {
    throw outOfRange('undoSize', `a multiple of 4096, at least ${UNDO_BYTES_MIN}`, req.undoBytes);
  }
  // Below this, not even a one-block write fits the undo area: atomicWriteBytesMax would be 0.
  const undoMin = undoBytesFor(req.blockBytes, 1);
  if (req.undoBytes < undoMin) {
    throw outOfRange('undoSize', `at least ${undoMin} with blockSize ${req.blockBytes}, ` +
      'room to save the old bytes of a one-block write; use a larger undoSize or a smaller blockSize', req.undoBytes);
  }
  const segmentMin = SEGMENT_DIRECTORY_ENTRIES * SEGMENT_ENTRY_BYTES;
  if (req.segmentAreaBytes !== 0 && (req.segmentAreaBytes % PAGE_BYTES !== 0 || req.segmentAreaBytes <= segmentMin)) {
    throw outOfRange('segmentAreaSize', `0 or a multiple of 4096 above ${segmentMin}`, req.segmentAreaBytes);
  }
  // First guess ignoring rounding, then step down until it fits.
  const fixed = layout(req, 0).dataOffset;
  let n = Math.floor((req.regionBytes - fixed) / (req.blockBytes + DESCRIPTOR_BYTES));
  while (n > 0 && endOfData(layout(req, n)) > req.regionBytes) n--;
  if (n < BUFFER_COUNT_MIN) {
    throw outOfRange(
      'size',
      `large enough for ${BUFFER_COUNT_MIN} blocks of ${req.blockBytes} bytes after the metadata ` +
        `(${formatBytes(fixed)} with these maxFiles/undoSize/segmentAreaSize)`,
      req.regionBytes,
    );
  }
  const g = layout(req, n);
  // Both terms hold by now (BUFFER_COUNT_MIN / 4 >= 2, undoMin): a write always makes progress.
  if (writeBlocksMax(g) < 2) throw new Error(`internal: a geometry whose writes cannot make progress (${JSON.stringify(req)})`);
  return g;
}
