'use strict';
/**
 * An append-only event store on riocache.
 *
 * Events are JSON values kept in one log file under the cache root, one
 * record each:
 *
 *   offset  size  field
 *   0       4     payload length in bytes (u32 LE, 2 .. EVENT_BYTES_MAX)
 *   4       4     sequence number: the record's index in the log (u32 LE)
 *   8       4     CRC-32 of bytes 0..7 and of the payload (u32 LE)
 *   12      n     payload: the event as UTF-8 JSON
 *
 * An event is acknowledged when append() returns. append() is one write call
 * through cache.fs, no larger than cache.atomicWriteBytesMax, so riocache
 * keeps it across a SIGKILL (G1) and shows it whole or not at all (G2). The
 * reader still checks every record (length, sequence, checksum, JSON): a
 * record that fails is damage riocache did not explain, and open() refuses
 * the log with EVENTS_DAMAGED instead of guessing. The caller decides what
 * to do (crash-workload.js cuts the log there when riocache quarantined a
 * block of it).
 *
 * Process death is covered when append() returns; kernel crash or power loss
 * only after sync() (an fdatasync through the cache).
 */
const zlib = require('node:zlib');
// Inside this repository; in a project of your own: require('riocache').
const { openCacheSync } = require('../../dist/src/index.js');

const HEADER_BYTES = 12;
/** The largest payload (bytes) one event may have. */
const EVENT_BYTES_MAX = 64 * 1024;
/** How much of the log one read brings in while scanning. */
const SCAN_CHUNK_BYTES = 256 * 1024;

/** CRC-32 (IEEE): zlib's where Node has it (20.15 and later), else a table. */
const crc32 = zlib.crc32 ?? (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return (bytes, value = 0) => {
    let c = ~value >>> 0;
    for (let i = 0; i < bytes.length; i++) c = table[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
    return ~c >>> 0;
  };
})();

class EventStoreError extends Error {
  constructor(code, message, details = {}) {
    super(message);
    this.name = 'EventStoreError';
    this.code = code;
    Object.assign(this, details);
  }
}

/** One record's bytes: header and payload. */
function encodeRecord(seq, event) {
  const json = JSON.stringify(event);
  if (json === undefined) throw new TypeError('an event must be a JSON value (got undefined or a function)');
  const payload = Buffer.from(json, 'utf8');
  if (payload.length > EVENT_BYTES_MAX) {
    throw new RangeError(`an event is at most ${EVENT_BYTES_MAX} bytes of JSON (got ${payload.length})`);
  }
  const record = Buffer.allocUnsafe(HEADER_BYTES + payload.length);
  record.writeUInt32LE(payload.length, 0);
  record.writeUInt32LE(seq >>> 0, 4);
  record.writeUInt32LE(crc32(payload, crc32(record.subarray(0, 8))), 8);
  payload.copy(record, HEADER_BYTES);
  return record;
}

class EventStore {
  /**
   * Opens (or creates) the log `file` under the cache root and checks every
   * record in it.
   *
   * options.cache: a riocache Cache to use (the caller keeps owning it); or
   * options.region + options.root (+ options.size, used when the region is
   * created; riocache's default is 64MiB): the store opens a cache
   * of its own, running the warm reboot if its last owner died, and close()
   * closes it.
   */
  static open(options) {
    const { file = 'events.log' } = options;
    if (typeof file !== 'string' || file.length === 0) throw new TypeError('Expected the "file" option to be a non-empty string');
    let cache = options.cache;
    const ownsCache = cache === undefined;
    if (ownsCache) {
      // size only applies when the region is created; riocache refuses to reformat an existing one.
      cache = openCacheSync({ region: options.region, root: options.root, ...(options.size === undefined ? {} : { size: options.size }) });
    }
    try {
      const fd = cache.fs.openSync(file, 'a+');
      const store = new EventStore(cache, ownsCache, file, fd);
      try {
        store.scanToEnd();
      } catch (err) {
        cache.fs.closeSync(fd);
        throw err;
      }
      return store;
    } catch (err) {
      if (ownsCache) cache.closeSync();
      throw err;
    }
  }

  /** @private use EventStore.open() */
  constructor(cache, ownsCache, file, fd) {
    this.cache = cache;
    this.file = file;
    this.ownsCache = ownsCache;
    this.fd = fd;
    /** Number of events in the log. */
    this.count = 0;
    /** Bytes of verified records: where the next one goes. */
    this.size = 0;
    this.closed = false;
  }

  /** Reads and checks every record; sets count and size. */
  scanToEnd() {
    let count = 0;
    let size = 0;
    for (const { offset, length } of this.records()) {
      count++;
      size = offset + length;
    }
    this.count = count;
    this.size = size;
  }

  /**
   * Every record in order, checked: { seq, offset, length (header
   * included), event }. Throws EVENTS_DAMAGED at the first that fails.
   */
  *records() {
    const fileBytes = this.cache.fs.fstatSync(this.fd).size;
    let chunk = Buffer.alloc(0);
    let chunkAt = 0; // file offset of chunk[0]
    const bytesAt = (offset, length) => {
      if (offset + length > chunkAt + chunk.length) {
        const want = Math.min(Math.max(length, SCAN_CHUNK_BYTES), fileBytes - offset);
        chunk = Buffer.alloc(want);
        let got = 0;
        while (got < want) {
          const n = this.cache.fs.readSync(this.fd, chunk, got, want - got, offset + got);
          if (n === 0) break;
          got += n;
        }
        chunk = chunk.subarray(0, got);
        chunkAt = offset;
      }
      return chunk.subarray(offset - chunkAt, offset - chunkAt + length);
    };
    const damaged = (offset, seq, why) => new EventStoreError('EVENTS_DAMAGED',
      `${this.file}: the record at offset ${offset} (event #${seq}) is damaged: ${why}; ` +
      `${seq} events before it are intact`, { file: this.file, offset, events: seq });
    let offset = 0;
    for (let seq = 0; offset < fileBytes; seq++) {
      if (fileBytes - offset < HEADER_BYTES) throw damaged(offset, seq, `${fileBytes - offset} bytes left, a header has ${HEADER_BYTES}`);
      const header = Buffer.from(bytesAt(offset, HEADER_BYTES));
      const length = header.readUInt32LE(0);
      if (length < 2 || length > EVENT_BYTES_MAX) throw damaged(offset, seq, `impossible length ${length}`);
      if (offset + HEADER_BYTES + length > fileBytes) throw damaged(offset, seq, `the record runs past the end of the file`);
      if (header.readUInt32LE(4) !== seq >>> 0) throw damaged(offset, seq, `sequence number ${header.readUInt32LE(4)}, expected ${seq}`);
      const payload = bytesAt(offset + HEADER_BYTES, length);
      if (crc32(payload, crc32(header.subarray(0, 8))) !== header.readUInt32LE(8)) throw damaged(offset, seq, 'checksum mismatch');
      let event;
      try {
        event = JSON.parse(payload.toString('utf8'));
      } catch (err) {
        throw damaged(offset, seq, `not JSON (${err.message})`);
      }
      yield { seq, offset, length: HEADER_BYTES + length, event };
      offset += HEADER_BYTES + length;
    }
  }

  /** Every event in order, each record checked. */
  readAll() {
    this.assertOpen();
    const events = [];
    for (const { event } of this.records()) events.push(event);
    return events;
  }

  /**
   * What append(event) would write next, and where: { offset, data }. The
   * record depends only on the event and the count, so a caller (a crash
   * test) can announce the exact bytes before appending.
   */
  nextRecord(event) {
    this.assertOpen();
    return { offset: this.size, data: encodeRecord(this.count, event) };
  }

  /**
   * Appends one event; it is acknowledged when this returns: { seq, offset }.
   * Throws (and changes nothing) when the event is not JSON or too large.
   */
  append(event) {
    this.assertOpen();
    const record = encodeRecord(this.count, event);
    if (record.length > this.cache.atomicWriteBytesMax) {
      throw new RangeError(`a record of ${record.length} bytes is larger than one atomic write (${this.cache.atomicWriteBytesMax} bytes)`);
    }
    // One write call, at the offset the store knows: the whole record, or (if the process dies first) none of it.
    this.cache.fs.writeSync(this.fd, record, 0, record.length, this.size);
    const at = { seq: this.count, offset: this.size };
    this.count++;
    this.size += record.length;
    return at;
  }

  /** Writes the log back and fdatasyncs it: the events now survive power loss too (G4). */
  sync() {
    this.assertOpen();
    this.cache.fs.fdatasyncSync(this.fd);
  }

  /** Closes the log; closes the cache too when the store opened it (writing everything back). */
  async close() {
    if (this.closed) return;
    this.closed = true;
    this.cache.fs.closeSync(this.fd);
    if (this.ownsCache) await this.cache.close();
  }

  assertOpen() {
    if (this.closed) throw new EventStoreError('EVENTS_CLOSED', `${this.file}: the event store is closed`);
  }
}

module.exports = { EventStore, EventStoreError, encodeRecord, HEADER_BYTES, EVENT_BYTES_MAX };
