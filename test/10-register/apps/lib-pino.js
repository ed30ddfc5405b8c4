// pino with pino.destination(path) (sonic-boom, asynchronous fs.write), unmodified.
// work <dir> <count>: logs lines after the ones present, 20 at a time; a batch is acknowledged when sonic-boom
// has written all of it (its 'drain' event: nothing left in its buffer, every fs.write called back).
// verify <dir>: prints the numbers of the whole lines it reads (and any line that does not parse).
const fs = require('node:fs');
const { join } = require('node:path');
const pino = require('pino');

const [mode, dir, count] = process.argv.slice(2);
const file = join(dir, 'app.log');
const say = (o) => process.stdout.write(JSON.stringify(o) + '\n');
const read = () => {
  const text = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '';
  const lines = text.split('\n');
  const tail = lines.pop(); // after the last newline: '' when every line is whole
  const numbers = [];
  const bad = [];
  for (const l of lines) {
    try {
      numbers.push(JSON.parse(l).n);
    } catch {
      bad.push(l);
    }
  }
  return { numbers, bad, tail };
};
if (mode === 'verify') {
  say(read());
} else {
  const from = read().numbers.length;
  const dest = pino.destination(file);
  const log = pino({ base: null, timestamp: false }, dest);
  let n = from;
  const end = from + Number(count);
  const batch = () => {
    for (let i = 0; i < 20 && n < end; i++) log.info({ n: ++n }, `line ${n} of the pino log`);
    const upTo = n;
    const acked = () => {
      say({ ack: upTo });
      if (n < end) setImmediate(batch);
      else say({ done: n });
    };
    // _writing: a write (or the asynchronous open) is in flight; 'drain' follows when the buffer is empty.
    if (dest._writing || dest._len > 0) dest.once('drain', acked);
    else setImmediate(acked);
  };
  batch();
}
