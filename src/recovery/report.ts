/** What a warm reboot did: exposed as `cache.recovery` and the 'recovery' event. */
import type { QuarantineRecord } from './quarantine';

export interface ListRepair {
  /** Nodes visited walking forward from the head. */
  walked: number;
  cycleBroken: boolean;
  outOfRange: boolean;
  /** Members the walk missed, found by the registry sweep and re-linked. */
  relinked: number;
  /** Back-links that disagreed with the forward links. */
  backLinksRepaired: number;
  /** Nodes on the list that did not belong there. */
  dropped: number;
}

export interface RecoveryReport {
  /** False when the region was closed cleanly and needed no scan. */
  ran: boolean;
  /** What the header slot not chosen held ('valid' is the normal case). */
  headerOtherSlot: string;
  fileTable: { selectedCopy: number; entriesFromOtherCopy: number; entriesLost: number };
  /** File slots whose entry was damaged in both copies. */
  lostEntries: number[];
  /** File slots whose entry was taken from the other copy. */
  fallbackEntries: number[];
  undo: { rolledBack: boolean; records: number; damaged: boolean; restoreFailures: number };
  intent: { operation: 'rename' | 'unlink' | 'rm' | null; diskStepRedone: boolean; damaged: boolean };
  lists: { lru: ListRepair; dirty: ListRepair };
  linksRepaired: number;
  dirtyBuffersFound: number;
  dirtyBuffersWritten: number;
  bytesWritten: number;
  filesTouched: string[];
  buffersClamped: number;
  /** Twins (two buffers of one block, a cut shadow write) resolved by keeping the newer. */
  twinsResolved: number;
  /** Dirty buffers of files that were unlinked or replaced: dropped, as the program asked. */
  droppedWithFile: number;
  orphanFilesFreed: number;
  /** Files a writeFile was creating when the process died, before their name existed: they never did. */
  unnamedFilesFreed: number;
  corruptBuffers: number;
  quarantined: QuarantineRecord[];
  /** Directory (relative to the root) holding quarantined buffers, when any. */
  lostAndFound: string | null;
  cleanBuffersKept: number;
  cleanBuffersDropped: number;
  ioErrors: number;
  /** Flushed transactions replayed from the journal into a region that was lost (created afresh). */
  journal: { replayedMelds: number; tornTail: boolean };
  problems: string[];
  durationMs: number;
}

const noRepair = (): ListRepair => ({ walked: 0, cycleBroken: false, outOfRange: false, relinked: 0, backLinksRepaired: 0, dropped: 0 });

export function emptyReport(): RecoveryReport {
  return {
    ran: false, headerOtherSlot: 'valid',
    fileTable: { selectedCopy: 0, entriesFromOtherCopy: 0, entriesLost: 0 }, lostEntries: [], fallbackEntries: [],
    undo: { rolledBack: false, records: 0, damaged: false, restoreFailures: 0 },
    intent: { operation: null, diskStepRedone: false, damaged: false },
    lists: { lru: noRepair(), dirty: noRepair() }, linksRepaired: 0,
    dirtyBuffersFound: 0, dirtyBuffersWritten: 0, bytesWritten: 0, filesTouched: [], buffersClamped: 0, twinsResolved: 0,
    droppedWithFile: 0, orphanFilesFreed: 0, unnamedFilesFreed: 0, corruptBuffers: 0, quarantined: [], lostAndFound: null,
    cleanBuffersKept: 0, cleanBuffersDropped: 0, ioErrors: 0, journal: { replayedMelds: 0, tornTail: false }, problems: [], durationMs: 0,
  };
}
