// lowdb with its own JSONFile (steno: a temporary file, then rename), unmodified.
// work <dir> <count>: appends records after the ones present, printing {ack: n} once db.write() resolved.
// verify <dir>: prints the records it reads.
import { Low } from 'lowdb';
import { JSONFile } from 'lowdb/node';
import { join } from 'node:path';

const [mode, dir, count] = process.argv.slice(2);
const db = new Low(new JSONFile(join(dir, 'db.json')), { records: [] });
await db.read();
const say = (o) => process.stdout.write(JSON.stringify(o) + '\n');
if (mode === 'verify') {
  say({ records: db.data.records.map((r) => r.n) });
} else {
  const from = db.data.records.length;
  for (let n = from + 1; n <= from + Number(count); n++) {
    db.data.records.push({ n, text: `record ${n} `.padEnd(40 + (n % 7) * 30, '.') });
    await db.write();
    say({ ack: n });
  }
  say({ done: db.data.records.length });
}
