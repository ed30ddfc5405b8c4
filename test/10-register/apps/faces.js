// Every face of node:fs on files beneath a directory; prints what it saw, one JSON object.
// The same program runs on plain fs and under riocache/register: the outputs must be equal.
const fs = require('node:fs');
const fsp = require('node:fs/promises');
const { join } = require('node:path');
const { promisify } = require('node:util');

const dir = process.argv[2];
const out = {};
const p = (name) => join(dir, name);

async function main() {
  fs.writeFileSync(p('sync.txt'), 'one\n');
  fs.appendFileSync(p('sync.txt'), 'two\n');
  const fd = fs.openSync(p('sync.txt'), 'r+');
  fs.writeSync(fd, 'ONE', 0);
  const b = Buffer.alloc(8);
  out.readSync = [fs.readSync(fd, b, 0, 8, 0), b.toString()];
  out.fstatSize = fs.fstatSync(fd).size;
  fs.ftruncateSync(fd, 6);
  fs.fsyncSync(fd);
  fs.closeSync(fd);
  out.sync = fs.readFileSync(p('sync.txt'), 'utf8');
  out.statSize = fs.statSync(p('sync.txt')).size;
  out.exists = [fs.existsSync(p('sync.txt')), fs.existsSync(p('nope'))];
  try {
    fs.readFileSync(p('nope'));
  } catch (e) {
    out.enoent = [e.code, e.syscall];
  }

  await promisify(fs.writeFile)(p('cb.txt'), 'callback\n');
  await promisify(fs.appendFile)(p('cb.txt'), 'more\n');
  const cfd = await promisify(fs.open)(p('cb.txt'), 'r');
  out.cbRead = await new Promise((res, rej) => fs.read(cfd, Buffer.alloc(4), 0, 4, 0, (e, n, buf) => (e ? rej(e) : res([n, buf.toString()]))));
  out.cbWrite = await new Promise((res) => fs.write(cfd, 'x', (e) => res(e && e.code)));
  await promisify(fs.close)(cfd);
  out.cb = await promisify(fs.readFile)(p('cb.txt'), 'utf8');
  out.cbExists = await new Promise((res) => fs.exists(p('cb.txt'), res));

  await fsp.writeFile(p('pr.txt'), 'promise\n');
  await fsp.appendFile(p('pr.txt'), 'appended\n');
  const fh = await fsp.open(p('pr.txt'), 'r+');
  await fh.write('P', 0);
  out.fhRead = (await fh.read(Buffer.alloc(7), 0, 7, 0)).buffer.toString();
  out.fhStat = (await fh.stat()).size;
  await fh.close();
  out.pr = await fsp.readFile(p('pr.txt'), 'utf8');
  out.prStat = (await fsp.stat(p('pr.txt'))).size;

  await new Promise((res, rej) => {
    const ws = fs.createWriteStream(p('stream.log'), { flags: 'a' });
    for (let i = 0; i < 100; i++) ws.write(`line ${i}\n`);
    ws.end('end\n');
    ws.on('finish', res).on('error', rej);
  });
  await new Promise((res, rej) => {
    const ws = new fs.WriteStream(p('stream.log'), { flags: 'a' });
    ws.end('class\n', () => res());
    ws.on('error', rej);
  });
  out.stream = await new Promise((res, rej) => {
    let s = '';
    fs.createReadStream(p('stream.log'), { encoding: 'utf8' }).on('data', (c) => (s += c)).on('end', () => res(s)).on('error', rej);
  });

  fs.renameSync(p('cb.txt'), p('cb2.txt'));
  out.renamed = [fs.existsSync(p('cb.txt')), fs.readFileSync(p('cb2.txt'), 'utf8')];
  fs.unlinkSync(p('cb2.txt'));
  out.unlinked = fs.existsSync(p('cb2.txt'));
  fs.mkdirSync(p('sub/deeper'), { recursive: true });
  fs.writeFileSync(p('sub/deeper/f'), 'deep');
  out.readdir = fs.readdirSync(p('sub/deeper'));
  fs.copyFileSync(p('sub/deeper/f'), p('sub/copy'));
  out.copy = fs.readFileSync(p('sub/copy'), 'utf8');
  fs.truncateSync(p('sub/copy'), 2);
  out.truncated = fs.readFileSync(p('sub/copy'), 'utf8');
  fs.rmSync(p('sub'), { recursive: true });
  out.rm = fs.existsSync(p('sub'));
  out.writev = await new Promise((res, rej) => {
    const wfd = fs.openSync(p('v.bin'), 'w');
    fs.writev(wfd, [Buffer.from('ab'), Buffer.from('cd')], (e, n) => {
      fs.closeSync(wfd);
      e ? rej(e) : res([n, fs.readFileSync(p('v.bin'), 'utf8')]);
    });
  });
  console.log(JSON.stringify(out));
  // Under the hook: what went through the cache (not part of the comparison).
  const hook = globalThis[Symbol.for('riocache.register')];
  if (hook) {
    const s = hook.cache.stats();
    console.log(JSON.stringify({ hooked: true, writes: s.writes, cachedFiles: s.cachedFiles, fd: fs.openSync(p('sync.txt'), 'r') >= 2 ** 24 }));
  }
}
main().catch((e) => {
  console.error(e);
  process.exit(1);
});
