#!/usr/bin/env node
'use strict';
/**
 * The event store, end to end, on defaults:
 *
 *   node examples/event-store/demo.js [--events N] [--kill-after-ms MS] [--keep]
 *
 * 1. appends events and reads them back; 2. closes and reopens (no recovery
 * needed); 3. runs a writer process that reports every event it appended,
 * and SIGKILLs it mid-stream; 4. reopens the store, which runs riocache's
 * warm reboot, and checks that every acknowledged event is in the log, in
 * order and intact. The region goes in /dev/shm (the temp directory where
 * there is none), the log in a fresh temp directory; both are removed at
 * the end unless --keep. Exits 1 if an acknowledged event is missing.
 */
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { EventStore } = require('./store.js');

const REGION_SIZE = '16MiB';
const FILE = 'events.log';

/** Event n, the same in every process (so the parent can check what the writer wrote). */
function eventNumber(n) {
  const types = ['order-placed', 'order-paid', 'order-shipped', 'order-cancelled'];
  return { n, type: types[n % types.length], order: `o-${1000 + Math.floor(n / 4)}`, amount: ((n * 7919) % 100000) / 100 };
}

function same(a, b) {
  return JSON.stringify(a) === JSON.stringify(b);
}

const pause = new Int32Array(new SharedArrayBuffer(4));

/** A whole line to stdout before going on (blocking; retried if the pipe is full and non-blocking). */
function writeLine(line) {
  const bytes = Buffer.from(`${line}\n`);
  for (let done = 0; done < bytes.length;) {
    try {
      done += fs.writeSync(1, bytes, done);
    } catch (err) {
      if (err.code !== 'EAGAIN') throw err;
      Atomics.wait(pause, 0, 0, 1);
    }
  }
}

/** Child mode: append until killed, one line on stdout per acknowledged event. */
async function writer(region, root) {
  const store = EventStore.open({ region, root, file: FILE });
  writeLine(`ready ${store.count}`);
  for (;;) {
    const { seq } = store.append(eventNumber(store.count));
    writeLine(String(seq)); // append() returned: acknowledged
    if (seq % 64 === 0) await new Promise((res) => setImmediate(res)); // let write-back run, as a service would
  }
}

function usage(message) {
  return Object.assign(new Error(`${message}\nusage: node demo.js [--events N] [--kill-after-ms MS] [--keep]`), { usage: true });
}

function parseArgs(argv) {
  const o = { events: 2000, killAfterMs: 300, keep: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--keep') o.keep = true;
    else if (a === '--events') o.events = Number(argv[++i]);
    else if (a === '--kill-after-ms') o.killAfterMs = Number(argv[++i]);
    else throw usage(`unknown argument ${a}`);
  }
  if (!Number.isInteger(o.events) || o.events < 1) throw usage('Expected --events to be a positive integer');
  if (!Number.isFinite(o.killAfterMs) || o.killAfterMs < 0) throw usage('Expected --kill-after-ms to be a number of milliseconds');
  return o;
}

/** Runs the writer process, SIGKILLs it `ms` after it is ready; resolves with the acknowledged count. */
function runAndKill(region, root, ms) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [__filename, '--writer', region, root], { stdio: ['ignore', 'pipe', 'inherit'] });
    let rest = '';
    let last = -1;
    let first = null;
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk) => {
      const lines = (rest + chunk).split('\n');
      rest = lines.pop();
      for (const line of lines) {
        if (line.startsWith('ready ')) {
          first = Number(line.slice(6));
          setTimeout(() => child.kill('SIGKILL'), ms);
        } else {
          last = Number(line);
        }
      }
    });
    child.on('error', reject);
    // 'close': the pipe is drained, so every line the writer wrote before it died has been read.
    child.on('close', (code, signal) => {
      if (signal !== 'SIGKILL') reject(new Error(`the writer exited by itself (code ${code}, signal ${signal})`));
      else resolve({ first, acknowledged: last + 1 });
    });
  });
}

const kib = (n) => `${(n / 1024).toFixed(1)} KiB`;

async function main() {
  if (process.argv[2] === '--writer') return writer(process.argv[3], process.argv[4]);
  const o = parseArgs(process.argv.slice(2));
  const shm = fs.existsSync('/dev/shm') ? '/dev/shm' : os.tmpdir();
  const regionDir = fs.mkdtempSync(path.join(shm, 'riocache-event-store-'));
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'riocache-event-store-'));
  const region = path.join(regionDir, 'events.rio');
  let ok = true;
  try {
    console.log('riocache event store demo');
    console.log(`  region  ${region} (${REGION_SIZE}, created on first open)`);
    console.log(`  log     ${path.join(root, FILE)}`);

    // 1. Append and read back.
    let store = EventStore.open({ region, root, file: FILE, size: REGION_SIZE });
    for (let n = 0; n < o.events; n++) store.append(eventNumber(n));
    const back = store.readAll();
    ok = back.length === o.events && back.every((e, n) => same(e, eventNumber(n)));
    console.log(`1. appended ${o.events} events (${kib(store.size)}); read back ${back.length}, every record checked: ${ok ? 'ok' : 'MISMATCH'}`);
    await store.close();

    // 2. A clean close needs no recovery.
    store = EventStore.open({ region, root, file: FILE });
    console.log(`2. closed and reopened: recovery ran: ${store.cache.recovery.ran}; ${store.count} events in the log`);
    await store.close();

    // 3. A writer process killed mid-stream.
    console.log(`3. a writer process appends events and reports each one append() returned; SIGKILL after ${o.killAfterMs} ms`);
    const { first, acknowledged } = await runAndKill(region, root, o.killAfterMs);
    console.log(`   it found ${first} events, and ${acknowledged - first} more were acknowledged before the kill ` +
      `(${acknowledged} in all)`);

    // 4. Reopen: the warm reboot writes the dead writer's dirty buffers to the log.
    store = EventStore.open({ region, root, file: FILE });
    const r = store.cache.recovery;
    console.log(`4. reopened: recovery ran: ${r.ran}; wrote ${r.dirtyBuffersWritten} of ${r.dirtyBuffersFound} dirty buffers ` +
      `(${kib(r.bytesWritten)}) to ${r.filesTouched.join(', ') || 'no file'} in ${r.durationMs.toFixed(1)} ms` +
      (r.problems.length ? `; problems: ${r.problems.join('; ')}` : ''));
    const events = store.readAll();
    const intact = events.slice(0, acknowledged).every((e, n) => same(e, eventNumber(n)));
    const extra = events.length - acknowledged;
    const onDisk = fs.statSync(path.join(root, FILE)).size;
    const check = events.length >= acknowledged && extra <= 1 && intact;
    ok = ok && check && onDisk === store.size;
    console.log(`   ${events.length} events in the log: ${check ? `all ${acknowledged} acknowledged events present, in order, intact` : 'ACKNOWLEDGED EVENTS MISSING OR DAMAGED'}` +
      (extra === 1 ? ' (+1 appended but not yet reported when the kill came, found whole)' : ''));
    console.log(`   on disk, ${FILE} holds ${onDisk} bytes ${onDisk === store.size ? '= every record' : `but the log is ${store.size}: MISMATCH`}`);
    await store.close();
  } finally {
    if (o.keep) {
      console.log(`5. kept ${regionDir} and ${root}`);
    } else {
      fs.rmSync(regionDir, { recursive: true, force: true });
      fs.rmSync(root, { recursive: true, force: true });
      console.log('5. removed the region and the log (--keep keeps them)');
    }
  }
  console.log(ok ? 'PASS' : 'FAIL');
  process.exitCode = ok ? 0 : 1;
}

main().catch((err) => {
  console.error(err.usage ? err.message : err);
  process.exitCode = 1;
});
