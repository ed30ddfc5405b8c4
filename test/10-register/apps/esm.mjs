// ESM named imports of node:fs and node:fs/promises under --import riocache/register.
import { openSync, writeSync, closeSync, readFileSync, writeFileSync } from 'node:fs';
import { appendFile, readFile } from 'node:fs/promises';
import { join } from 'node:path';

const dir = process.argv[2];
writeFileSync(join(dir, 'esm.txt'), 'named\n');
await appendFile(join(dir, 'esm.txt'), 'promise\n');
const fd = openSync(join(dir, 'esm.txt'), 'a');
writeSync(fd, 'fd\n');
closeSync(fd);
const hook = globalThis[Symbol.for('riocache.register')];
console.log(JSON.stringify({
  content: readFileSync(join(dir, 'esm.txt'), 'utf8'), viaPromise: await readFile(join(dir, 'esm.txt'), 'utf8'),
  cacheFd: fd >= 2 ** 24, writes: hook ? hook.cache.stats().writes : 0,
}));
