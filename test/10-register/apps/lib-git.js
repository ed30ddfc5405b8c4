// isomorphic-git with plain node:fs as its fs, unmodified: each commit rewrites the index, writes objects and the ref.
// work <dir> <count>: commits after the ones present, printing {ack: n, oid} once git.commit resolved.
// verify <dir>: prints HEAD and the commits git.log sees.
const fs = require('node:fs');
const { join } = require('node:path');
const git = require('isomorphic-git');

const [mode, dir, count] = process.argv.slice(2);
const say = (o) => process.stdout.write(JSON.stringify(o) + '\n');
const author = { name: 'riocache', email: 'test@example.com', timestamp: 1700000000, timezoneOffset: 0 };

async function main() {
  if (mode === 'verify') {
    const head = await git.resolveRef({ fs, dir, ref: 'HEAD' });
    const log = await git.log({ fs, dir });
    say({ head, commits: log.length });
    return;
  }
  if (!fs.existsSync(join(dir, '.git'))) await git.init({ fs, dir, defaultBranch: 'main' });
  let have = 0;
  try {
    have = (await git.log({ fs, dir })).length;
  } catch {
    have = 0; // no commit yet
  }
  for (let n = have + 1; n <= have + Number(count); n++) {
    fs.writeFileSync(join(dir, 'state.txt'), `state ${n}\n`.repeat(1 + (n % 5)));
    fs.writeFileSync(join(dir, `file-${n % 4}.txt`), `content ${n}\n`);
    await git.add({ fs, dir, filepath: 'state.txt' });
    await git.add({ fs, dir, filepath: `file-${n % 4}.txt` });
    const oid = await git.commit({ fs, dir, message: `commit ${n}`, author: { ...author, timestamp: author.timestamp + n } });
    say({ ack: n, oid });
  }
  say({ done: have + Number(count) });
}
main().catch((e) => {
  console.error(e);
  process.exit(1);
});
