// Small programs for the register tests, chosen by argv[2]; each prints JSON lines.
const fs = require('node:fs');
const { join } = require('node:path');

const [mode, root, outside] = process.argv.slice(2);
const say = (o) => process.stdout.write(JSON.stringify(o) + '\n');
const hook = () => globalThis[Symbol.for('riocache.register')];

switch (mode) {
  case 'outside': {
    // A call elsewhere goes to the real fs: a real descriptor, and the cache sees no write.
    const before = hook().cache.stats().writes;
    const fd = fs.openSync(join(outside, 'plain.txt'), 'w');
    fs.writeSync(fd, 'plain');
    fs.closeSync(fd);
    fs.writeFileSync(join(outside, 'plain2.txt'), 'plain2');
    say({ fd, writes: hook().cache.stats().writes - before, content: fs.readFileSync(join(outside, 'plain.txt'), 'utf8') });
    break;
  }
  case 'cross': {
    fs.writeFileSync(join(root, 'in.txt'), 'inside');
    fs.writeFileSync(join(outside, 'out.txt'), 'outside');
    const r = {};
    try {
      fs.renameSync(join(root, 'in.txt'), join(outside, 'moved.txt'));
    } catch (e) {
      r.renameOut = e.code;
    }
    try {
      fs.renameSync(join(outside, 'out.txt'), join(root, 'moved.txt'));
    } catch (e) {
      r.renameIn = e.code;
    }
    fs.copyFileSync(join(root, 'in.txt'), join(outside, 'copied-out.txt'));
    fs.copyFileSync(join(outside, 'out.txt'), join(root, 'copied-in.txt'));
    r.copiedOut = fs.readFileSync(join(outside, 'copied-out.txt'), 'utf8');
    r.copiedIn = fs.readFileSync(join(root, 'copied-in.txt'), 'utf8');
    try {
      fs.linkSync(join(root, 'in.txt'), join(outside, 'link'));
    } catch (e) {
      r.linkOut = e.code;
    }
    say(r);
    break;
  }
  case 'twice': {
    // A second copy of riocache in the same process (fresh module instances) must not wrap the wrappers.
    const before = { w: fs.writeFileSync, p: fs.promises.writeFile, o: fs.open };
    for (const k of Object.keys(require.cache)) if (k.includes('/dist/src/')) delete require.cache[k];
    require('riocache/register');
    say({ same: fs.writeFileSync === before.w && fs.promises.writeFile === before.p && fs.open === before.o });
    break;
  }
  case 'ack-then-exit':
  case 'ack-then-wait':
  case 'ack-then-sigterm': {
    fs.writeFileSync(join(root, 'state.json'), JSON.stringify({ n: 1 }));
    const fd = fs.openSync(join(root, 'log'), 'a');
    fs.writeSync(fd, 'acknowledged\n');
    say({ acked: true });
    if (mode === 'ack-then-exit') process.exit(0);
    setInterval(() => {}, 1000); // waits for the parent's signal
    break;
  }
  default:
    throw new Error(`unknown mode ${mode}`);
}
