// Rewrites one file in place, whole, again and again (as programs rewrite state files): writeFileSync,
// callback writeFile and fs.promises.writeFile in turn, sizes from 10 B to about 200 KiB.
// Prints {ack: i} once the i-th writeFile returned or called back.
const fs = require('node:fs');
const { join } = require('node:path');

// With "create" as the second argument, each writeFile creates a new file instead (f-<i>).
const create = process.argv[3] === 'create';
const target = (i) => join(process.argv[2], create ? `f-${i}` : 'state.json');
const say = (o) => process.stdout.write(JSON.stringify(o) + '\n');
const content = (i) => JSON.stringify({ i, pad: 'p'.repeat((i * 7919) % 200_000) });

async function main() {
  for (let i = 1; ; i++) {
    const form = i % 3;
    if (form === 0) fs.writeFileSync(target(i), content(i));
    else if (form === 1) await new Promise((res, rej) => fs.writeFile(target(i), content(i), (e) => (e ? rej(e) : res())));
    else await fs.promises.writeFile(target(i), content(i));
    say({ ack: i });
  }
}
main();
