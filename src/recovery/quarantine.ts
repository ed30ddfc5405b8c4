/**
 * Quarantine (G5): a buffer that fails its checksum never reaches its file.
 * Its bytes and a JSON record (file, offset, length, expected and actual
 * checksum) go to `lost+found/` inside the root, written beneath the root
 * like everything else (G7).
 */
import * as fs from 'node:fs';
import { native } from '../native';

export const LOST_AND_FOUND = 'lost+found';

export interface QuarantineRecord {
  file: string;
  offset: number;
  length: number;
  expectedCrc: number;
  actualCrc: number;
  regionUuid: string;
  buffer: number;
  detectedAt: string;
  detectedBy: 'recovery' | 'write-back' | 'verify';
  /** Where the bytes were saved, relative to the root (null if saving failed). */
  saved: string | null;
}

let sequence = 0;

/** Saves the bytes and the record; returns the record. Never throws: a report is better than a crash. */
export function quarantine(
  rootFd: number,
  bytes: Uint8Array,
  record: Omit<QuarantineRecord, 'saved' | 'detectedAt'>,
): QuarantineRecord {
  const full: QuarantineRecord = { ...record, detectedAt: new Date().toISOString(), saved: null };
  try {
    try {
      native.mkdirBeneath(rootFd, LOST_AND_FOUND, 0o700);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const stem = `${LOST_AND_FOUND}/${Date.now()}-${process.pid}-${sequence++}-buffer${record.buffer}`;
    const flags = fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL;
    const dataFd = native.openBeneath(rootFd, `${stem}.bin`, flags, 0o600);
    try {
      fs.writeSync(dataFd, bytes);
    } finally {
      fs.closeSync(dataFd);
    }
    full.saved = `${stem}.bin`;
    const jsonFd = native.openBeneath(rootFd, `${stem}.json`, flags, 0o600);
    try {
      fs.writeSync(jsonFd, JSON.stringify(full, null, 2) + '\n');
    } finally {
      fs.closeSync(jsonFd);
    }
  } catch {
    /* the record still goes to the report and the event */
  }
  return full;
}
