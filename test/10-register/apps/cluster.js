// A Node cluster under riocache/register: the primary forks one worker per slot and forks a new one with the
// same slot whenever one dies. Each worker appends numbered records to its slot's file through one descriptor
// and reports every acknowledged record; lines on stdout (primary): {slot, pid, region, recovered} at a
// worker's start, {slot, ack} per record, {slot, locked: code, message} for the intrusion check.
const cluster = require('node:cluster');
const fs = require('node:fs');
const { join } = require('node:path');

const root = process.env.RIOCACHE_ROOT;
const say = (o) => process.stdout.write(JSON.stringify(o) + '\n');

if (cluster.isPrimary) {
  const slots = Number(process.argv[2] ?? 3);
  let stopping = false;
  const fork = (slot) => {
    const w = cluster.fork({ SLOT: String(slot) });
    w.on('message', (m) => say({ slot, ...m }));
    w.on('exit', () => {
      if (!stopping) fork(slot);
    });
  };
  for (let s = 0; s < slots; s++) fork(s);
  process.on('message', (m) => {
    if (m === 'stop') {
      stopping = true;
      for (const w of Object.values(cluster.workers)) w.send('stop');
      const check = setInterval(() => {
        if (Object.keys(cluster.workers).length === 0) {
          clearInterval(check);
          say({ stopped: true });
          process.disconnect();
        }
      }, 20);
    } else if (m && m.intrude !== undefined) {
      for (const x of Object.values(cluster.workers)) x.send(m); // the worker of slot m.intrude acts on it
    }
  });
} else {
  const slot = Number(process.env.SLOT);
  const hook = globalThis[Symbol.for('riocache.register')];
  const file = join(root, `worker-${slot}.log`);
  const have = fs.existsSync(file) ? fs.readFileSync(file, 'utf8').split('\n').filter(Boolean).length : 0;
  process.send({ pid: process.pid, region: hook.region, recovered: hook.cache.recovery.ran, have });
  const fd = fs.openSync(file, 'a');
  let n = have;
  const timer = setInterval(() => {
    for (let i = 0; i < 10; i++) {
      n++;
      fs.writeSync(fd, `${slot} ${n} ${'r'.repeat(n % 50)}\n`);
      process.send({ ack: n });
    }
  }, 5);
  process.on('message', (m) => {
    if (m === 'stop') {
      clearInterval(timer);
      fs.closeSync(fd);
      process.disconnect(); // a normal exit: the hook closes the region clean
    } else if (m && m.intrude === slot) {
      try {
        fs.openSync(join(root, `worker-${(slot + 1) % m.slots}.log`), 'a');
        process.send({ locked: null });
      } catch (e) {
        process.send({ locked: e.code, message: e.message, holder: e.pid });
      }
    }
  });
}
