// A logger writing through fs.createWriteStream (as winston's file transport does), unmodified.
// work <dir> <count>: appends lines; a line is acknowledged when its write callback runs.
// verify <dir>: prints the numbers of the whole lines it reads.
const fs = require('node:fs');
const { join } = require('node:path');

const [mode, dir, count] = process.argv.slice(2);
const file = join(dir, 'stream.log');
const say = (o) => process.stdout.write(JSON.stringify(o) + '\n');
const read = () => {
  const text = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '';
  const lines = text.split('\n');
  const tail = lines.pop();
  const numbers = [];
  const bad = [];
  for (const l of lines) {
    const m = /^(\d+) (.*)$/.exec(l);
    if (m && m[2] === `message ${m[1]}`.padEnd(60, '-')) numbers.push(Number(m[1]));
    else bad.push(l);
  }
  return { numbers, bad, tail };
};
if (mode === 'verify') {
  say(read());
} else {
  const from = read().numbers.length;
  const ws = fs.createWriteStream(file, { flags: 'a' });
  let n = from;
  const end = from + Number(count);
  const more = () => {
    while (n < end) {
      const k = ++n;
      const ok = ws.write(`${k} ${`message ${k}`.padEnd(60, '-')}\n`, (err) => {
        if (err) throw err;
        say({ ack: k });
        if (k === end) ws.end(() => say({ done: k }));
      });
      if (!ok) return ws.once('drain', more);
    }
  };
  more();
}
