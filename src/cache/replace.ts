/**
 * replace: a file's whole contents become new bytes in ONE atomic step under
 * process death (the core of a truncating writeFile, docs/format.md §10
 * "replace"). Truncating then writing is two commits, and a SIGKILL between
 * them leaves an empty file: the failure of programs that rewrite state files
 * in place (a git ref, a git index). Here the new bytes and the new size are
 * applied under one armed undo area, and its IDLE store is the only commit.
 *
 * The steps, and what recovery sees when a SIGKILL lands after each store:
 *
 *   1. undo.begin(); arm(WRITE, slot, 0, length): header stores, then
 *      `Atomics.store` ACTIVE. Cut before ACTIVE: the area is IDLE, nothing
 *      changed, the OLD contents. After: recovery rolls back what the area
 *      records (nothing yet): the OLD contents.
 *   2. A SIZE record of the old (size, zeroFrom, flags), persisted. A cut
 *      inside it: the record fails its check and is ignored; nothing it
 *      protects has changed yet. OLD.
 *   3. The write of the new bytes at 0, in the engine's write core with the
 *      area already ACTIVE (as a transaction's writes run): for every touched
 *      buffer a BYTES record of its live old bytes, persisted, before the
 *      bytes change; then the bytes, each buffer's descriptor commit, and, if
 *      the file grows, its size. A cut anywhere: recovery restores every
 *      recorded buffer and the size from the records, in reverse. OLD.
 *   4. When the file shrinks: the size slot flips to `length` (zeroFrom
 *      lowered to it, SIZE_DIRTY: write-back cuts the disk file). A cut:
 *      the SIZE record of step 2 restores the old size. OLD.
 *   5. `Atomics.store` IDLE: the commit. From here recovery keeps the NEW
 *      contents: their bytes are in DIRTY buffers, the size is `length`.
 *   6. After the commit: the buffers past the new size are freed and the last
 *      one clamped (Engine.trimBuffers). A cut here leaves buffers past the
 *      size, which recovery clamps or frees (invariant 5). NEW.
 *
 * The bytes past the new size are never touched before the commit, so a
 * rollback needs no record of them: at most atomicWriteBytesMax bytes of old
 * contents are saved, whatever the old size.
 */
import { regionError } from '../errors';
import { UNDO_KIND_WRITE } from '../region/format';
import type { Engine } from './engine';
import type { FileState } from './files';
import { SIZE_DIRTY } from './sizes';

/**
 * The contents of `file` become src[offset, offset + length), atomically.
 * length must not exceed engine.atomicWriteBytesMax; synchronous I/O (a fill
 * of the last block, room) may happen inside, as in a sync write.
 */
export function replaceContents(e: Engine, file: FileState, src: Uint8Array, offset: number, length: number): void {
  if (length > e.atomicWriteBytesMax) {
    throw new Error(`internal: replace of ${length} bytes exceeds atomicWriteBytesMax (${e.atomicWriteBytesMax})`);
  }
  if (e.tx !== null) throw regionError('TRANSACTION_STATE', 'replace: a transaction is in progress.');
  const slot = file.slot;
  const oldSize = e.sizes.size(slot);
  if (length === 0) {
    // Emptying is one store already: the size slot's flip (truncate's commit).
    e.truncate(file, 0);
    return;
  }
  e.invalidateFills(file);
  const undo = e.undo;
  undo.begin();
  undo.arm(UNDO_KIND_WRITE, slot, 0, length); // step 1
  const from = undo.written;
  undo.addSize(slot, oldSize, e.sizes.zeroFrom(slot), e.sizes.flags[slot]); // step 2
  undo.persistRecords(from);
  const tx = { pinned: new Set<number>() };
  e.tx = tx; // the write core appends its records to the ACTIVE area and pins its buffers
  try {
    e.write(file, src, offset, length, 0, true); // step 3
    if (length < oldSize) {
      e.sizes.commit(slot, length, Math.min(e.sizes.zeroFrom(slot), length), e.sizes.flags[slot] | SIZE_DIRTY); // step 4
    }
  } catch (err) {
    // Nothing of the write was applied (it refuses before its first change), or it failed part-way: roll back.
    e.tx = null;
    for (const b of tx.pinned) e.pool.pins[b]--;
    e.rollBack(() => {});
    throw err;
  }
  undo.commit(); // step 5: the commit
  e.tx = null;
  for (const b of tx.pinned) e.pool.pins[b]--;
  if (length < oldSize) e.trimBuffers(file, length); // step 6
}
