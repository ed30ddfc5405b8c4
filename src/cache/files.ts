/**
 * Transient state of a file the cache holds (one per ACTIVE or ORPHAN slot of
 * the file table) and of each descriptor handed to users. Nothing here is in
 * the region: it is rebuilt at open.
 */
import { NIL } from '../region/format';

export class FileState {
  /** The descriptor riocache reads and writes the file through (-1 while detached). */
  fd = -1;
  /** The descriptor was opened O_RDWR. */
  writable = false;
  /** User descriptors open on this file. */
  openCount = 0;
  /**
   * Buffers holding blocks of this file: the head of a list linked through
   * the pool's transient fileNext/filePrev arrays (BufferPool.buffersOf). A
   * Set here cost a hash insert and delete per buffer published and evicted,
   * a tenth of a bulk write's time.
   */
  firstBuffer = NIL;
  /** Buffers on the dirty list (DIRTY or WRITING). */
  dirty = 0;
  /** Asynchronous write-back batches in flight. */
  inFlight = 0;
  /** Asynchronous fills (reads into the cache) in flight. */
  reads = 0;
  /**
   * The file was let go of while I/O on its descriptor was in flight: the
   * descriptor stays open (lock released) until that I/O completes, so its
   * number cannot be reused under it. See backing.ts.
   */
  parked = false;
  /**
   * Buffers dropped (truncated or unlinked) while their write-back was in
   * flight, by block: the same memory is reused if the block is written again,
   * so an old write can never land after a newer one from other memory.
   */
  readonly ghosts = new Map<number, number>();
  /** Unlinked or replaced while still open: its data goes nowhere. */
  orphan = false;
  /** Created by a writeFile and not linked under its path yet (docs/format.md §6, UNNAMED). */
  unnamed = false;
  /** Written back without fdatasync (writeback.ts R1): synced before fsync, close or detach complete. */
  unsynced = false;
  /** When it became unsynced (ms). */
  unsyncedSince = 0;
  /**
   * Asynchronous reads try the page cache first, on the event loop's thread
   * (RWF_NOWAIT: a copy, no waiting for the disk); false once the file
   * system has refused the flag (fileReads.ts).
   */
  readsNoWait = true;
  /** The disk file was cut to zeroFrom while a write-back was in flight: redo the length after it. */
  resizeAfterFlight = false;

  constructor(
    readonly slot: number,
    public generation: number,
    public path: string,
    public dev: number,
    public ino: number,
  ) {}

  get attached(): boolean {
    return this.fd >= 0;
  }

  /** Asynchronous I/O on the descriptor in flight (write-back or fills). */
  get ioInFlight(): boolean {
    return this.inFlight > 0 || this.reads > 0;
  }
}

export interface OpenDescriptor {
  kind: 'file';
  file: FileState;
  readable: boolean;
  writable: boolean;
  append: boolean;
  /** O_SYNC/O_DSYNC: every write is written back and synced (in 'disk' fsync mode). */
  sync: boolean;
  position: number;
  path: string;
}

/** A directory opened read-only: reads fail with EISDIR, as with Node's fs. */
export interface DirectoryDescriptor {
  kind: 'directory';
  fd: number;
  path: string;
}

export type Descriptor = OpenDescriptor | DirectoryDescriptor;

/** riocache descriptors are numbers far above the process's real ones. */
export const FIRST_DESCRIPTOR = 1 << 24;
