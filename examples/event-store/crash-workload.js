'use strict';
/**
 * A crash-test workload for the event store: the harness runs it in a child
 * process, SIGKILLs it at random instants (inside recovery too), and checks
 * the recovered log against every event that was acknowledged.
 *
 *   npx riocache crashtest --workload ./examples/event-store/crash-workload.js --kills 200
 *
 * Each append is announced with ctx.intend() before it starts (its exact
 * bytes and offset, from store.nextRecord()) and acknowledged with the
 * returned ack() after store.append() returns: from then on the harness
 * requires the event in the file (G1), and if the kill lands in between it
 * requires the record whole or absent (G2). The store's own check runs on
 * every restart as well: a damaged record it cannot explain makes this
 * process fail, and the harness reports that too.
 */
const fs = require('node:fs');
const path = require('node:path');
const { EventStore, EVENT_BYTES_MAX, HEADER_BYTES } = require('./store.js');

const FILE = 'events.log';
const TYPES = ['account-opened', 'deposited', 'withdrawn', 'transferred', 'note-added'];

/** Quarantine records riocache wrote for `file` (lost+found under the root). */
function quarantinedRanges(root, file) {
  const dir = path.join(root, 'lost+found');
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir)
    .filter((name) => name.endsWith('.json'))
    .map((name) => JSON.parse(fs.readFileSync(path.join(dir, name), 'utf8')))
    .filter((q) => q.file === file);
}

/**
 * Opens the store. A damaged record is accepted only where riocache
 * quarantined a block of the log (a run with --corrupt): the block holds the
 * disk's older bytes, so the log is cut at the first bad record, and the cut
 * is announced like any other change.
 */
function openStore(ctx) {
  if (!fs.existsSync(path.join(ctx.cache.root, FILE))) {
    const ack = ctx.intend({ op: 'create', file: FILE });
    const store = EventStore.open({ cache: ctx.cache, file: FILE });
    ack();
    return store;
  }
  try {
    return EventStore.open({ cache: ctx.cache, file: FILE });
  } catch (err) {
    if (err.code !== 'EVENTS_DAMAGED') throw err;
    const explained = quarantinedRanges(ctx.cache.root, FILE)
      .some((q) => q.offset < err.offset + HEADER_BYTES + EVENT_BYTES_MAX && q.offset + q.length > err.offset);
    if (!explained) throw err;
    const ack = ctx.intend({ op: 'truncate', file: FILE, length: err.offset });
    const fd = ctx.fs.openSync(FILE, 'r+');
    ctx.fs.ftruncateSync(fd, err.offset);
    ctx.fs.closeSync(fd);
    ack();
    return EventStore.open({ cache: ctx.cache, file: FILE });
  }
}

/** An event of `bytes` bytes or so: most small, some crossing a block, a few large. */
function makeEvent(ctx, n) {
  const k = ctx.random();
  const bytes = k < 0.7 ? 20 + Math.floor(ctx.random() * 200) : k < 0.95 ? 500 + Math.floor(ctx.random() * 4000) : 8000 + Math.floor(ctx.random() * 20000);
  return {
    n,
    type: TYPES[Math.floor(ctx.random() * TYPES.length)],
    account: Math.floor(ctx.random() * 1000),
    amount: Math.floor(ctx.random() * 1e6) / 100,
    note: ctx.payload(Math.ceil(bytes * 3 / 4)).toString('base64').slice(0, bytes),
  };
}

module.exports = async function eventStoreWorkload(ctx) {
  const store = openStore(ctx);
  for (let i = 0; ; i++) {
    const event = makeEvent(ctx, store.count);
    const { offset, data } = store.nextRecord(event);
    const ack = ctx.intend({ op: 'write', file: FILE, offset, data });
    try {
      store.append(event);
    } catch (err) {
      ack(err);
      throw err;
    }
    ack(); // the event is acknowledged: append() returned
    if (i % 200 === 199) store.sync(); // now and then, as a service would before answering "committed"
    if (i % 16 === 0) await ctx.yield(); // let write-back run
  }
};
