/**
 * Streams, FileHandle, Dir, watchers and the odd corners of cache.fs, each
 * checked against what node:fs does with the same calls where Node can be
 * asked (streams over identical files, Dir against readdir, the callback
 * error of a missing callback).
 */
import * as fs from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openCacheSync, type Cache } from '../../src';
import { scratchDir } from '../helpers';

let dir: string;
let cleanup: () => void;
let root: string;
let cache: Cache;

beforeEach(() => {
  ({ dir, cleanup } = scratchDir('streams'));
  root = join(dir, 'root');
  fs.mkdirSync(root);
  cache = openCacheSync({ region: join(dir, 'region.rio'), root, size: '8MiB' });
});

afterEach(async () => {
  if (!cache.closed) await cache.close();
  cleanup();
});

const once = (emitter: NodeJS.EventEmitter, event: string) => new Promise<unknown[]>((resolve) => emitter.once(event, (...a) => resolve(a)));

async function collect(stream: NodeJS.ReadableStream): Promise<{ chunks: number[]; text: string }> {
  const chunks: number[] = [];
  let text = '';
  for await (const chunk of stream) {
    chunks.push((chunk as Buffer).length);
    text += chunk.toString();
  }
  return { chunks, text };
}

describe('streams', () => {
  it('createWriteStream: open, ready, close, bytesWritten, pending, path, flush; the bytes are the cache\'s', async () => {
    const ws = cache.fs.createWriteStream('out.log', { flush: true });
    expect(ws.pending).toBe(true);
    expect(ws.path).toBe('out.log');
    const [fd] = await once(ws, 'open');
    expect(typeof fd).toBe('number');
    expect(ws.pending).toBe(false);
    ws.write('one\n');
    ws.write(Buffer.from('two\n'));
    ws.end('three\n');
    await once(ws, 'close');
    expect(ws.bytesWritten).toBe(14);
    expect(cache.fs.readFileSync('out.log', 'utf8')).toBe('one\ntwo\nthree\n');
  });

  it('createReadStream with start, end and highWaterMark reads what Node\'s reads from the same bytes', async () => {
    const data = Buffer.alloc(200_000);
    for (let i = 0; i < data.length; i++) data[i] = (i * 7) & 0xff;
    cache.fs.writeFileSync('big', data); // dirty in the cache, not yet on the disk
    fs.writeFileSync(join(dir, 'plain'), data);
    for (const options of [{}, { start: 10, end: 99_999, highWaterMark: 4096 }, { start: 150_000 }, { highWaterMark: 1 << 20 }]) {
      const mine = cache.fs.createReadStream('big', { ...options, encoding: 'latin1' });
      const node = fs.createReadStream(join(dir, 'plain'), { ...options, encoding: 'latin1' });
      const [a, b] = await Promise.all([collect(mine), collect(node)]);
      expect(a, JSON.stringify(options)).toEqual(b);
      expect(mine.bytesRead).toBe(node.bytesRead);
    }
  });

  it('node:fs.createWriteStream(p, { fs: cache.fs }) writes through the cache', async () => {
    const ws = fs.createWriteStream('via-node.txt', { fs: cache.fs } as never);
    ws.end('through node\'s stream');
    await once(ws, 'close');
    expect(cache.fs.readFileSync('via-node.txt', 'utf8')).toBe('through node\'s stream');
    const rs = fs.createReadStream('via-node.txt', { fs: cache.fs } as never);
    expect((await collect(rs)).text).toBe('through node\'s stream');
  });

  it('a stream over a FileHandle closes the handle (its close event) unless autoClose is false', async () => {
    cache.fs.writeFileSync('h.txt', 'handle bytes');
    const fh = await cache.fs.promises.open('h.txt', 'r');
    const closed = once(fh, 'close');
    expect((await collect(fh.createReadStream({ encoding: 'utf8' }))).text).toBe('handle bytes');
    await closed;
    expect(fh.fd).toBe(-1);
    const kept = await cache.fs.promises.open('h.txt', 'r+');
    const ws = kept.createWriteStream({ autoClose: false, start: 7 });
    ws.end('BYTES');
    await once(ws, 'finish');
    expect(kept.fd).not.toBe(-1);
    expect(await kept.readFile('utf8')).toBe('handle BYTES');
    await kept.close();
  });
});

describe('FileHandle', () => {
  it('is an EventEmitter with fd, readv/writev, readLines, readableWebStream, stat, truncate, utimes, chmod, asyncDispose', async () => {
    const fh = await cache.fs.promises.open('f.txt', 'w+');
    expect(await fh.writev([Buffer.from('line one\n'), Buffer.from('line two\n')])).toMatchObject({ bytesWritten: 18 });
    const a = Buffer.alloc(5);
    const b = Buffer.alloc(100);
    const r = await fh.readv([a, b], 0);
    expect(r.bytesRead).toBe(18);
    expect(a.toString() + b.subarray(0, 13).toString()).toBe('line one\nline two\n');
    expect((await fh.stat({ bigint: true })).size).toBe(18n);
    await fh.utimes(1_000, 2_000);
    expect((await fh.stat()).mtimeMs).toBe(2_000_000);
    await fh.chmod(0o600);
    expect((await fh.stat()).mode & 0o777).toBe(0o600);
    const lines: string[] = [];
    const reader = await cache.fs.promises.open('f.txt');
    for await (const line of reader.readLines()) lines.push(line);
    expect(lines).toEqual(['line one', 'line two']);
    const web = await cache.fs.promises.open('f.txt');
    let text = '';
    for await (const chunk of web.readableWebStream() as unknown as AsyncIterable<Uint8Array>) text += Buffer.from(chunk).toString();
    expect(text).toBe('line one\nline two\n');
    await web.close();
    await fh.truncate(4);
    expect(cache.fs.readFileSync('f.txt', 'utf8')).toBe('line');
    const events: string[] = [];
    fh.on('close', () => events.push('close'));
    await fh[Symbol.asyncDispose]();
    expect(events).toEqual(['close']);
    expect(fh.fd).toBe(-1);
    await expect(fh.read()).rejects.toMatchObject({ code: 'EBADF', message: 'file closed', syscall: 'read' });
  });

  it('promises.writeFile takes an async iterable and a stream, as Node\'s', async () => {
    async function* chunks() {
      yield 'a';
      yield Buffer.from('b');
      yield 'c';
    }
    await cache.fs.promises.writeFile('it.txt', chunks());
    expect(cache.fs.readFileSync('it.txt', 'utf8')).toBe('abc');
    await cache.fs.promises.writeFile('it.txt', Readable.from(['x', 'y']));
    expect(cache.fs.readFileSync('it.txt', 'utf8')).toBe('xy');
  });
});

describe('Dir and opendir', () => {
  it('lists what readdir lists, in each form, and refuses a closed Dir as Node does', async () => {
    for (const n of ['a', 'b', 'c']) cache.fs.writeFileSync(n, n);
    cache.fs.mkdirSync('sub');
    const expected = cache.fs.readdirSync('.').sort();
    const d1 = cache.fs.opendirSync('.');
    const seen: string[] = [];
    for (let e = d1.readSync(); e !== null; e = d1.readSync()) seen.push(e.name);
    d1.closeSync();
    expect(seen.sort()).toEqual(expected);
    const d2 = await cache.fs.promises.opendir('.');
    const iterated: string[] = [];
    for await (const e of d2) iterated.push(e.name);
    expect(iterated.sort()).toEqual(expected);
    const d3 = await new Promise<fs.Dir>((res, rej) => cache.fs.opendir('.', (e, d) => (e ? rej(e) : res(d))));
    expect(d3.path).toBe('.');
    await d3.close();
    const nodeDir = fs.opendirSync(root);
    nodeDir.closeSync();
    const nodeError = (() => { try { nodeDir.closeSync(); } catch (e) { return e; } })() as NodeJS.ErrnoException;
    const ourError = (() => { try { d3.closeSync(); } catch (e) { return e; } })() as NodeJS.ErrnoException;
    expect({ code: ourError.code, message: ourError.message }).toEqual({ code: nodeError.code, message: nodeError.message });
    expect(() => cache.fs.opendirSync('nope')).toThrow(expect.objectContaining({ code: 'ENOENT', syscall: 'opendir' }));
  });
});

describe('watchFile, exists, openAsBlob, callbacks', () => {
  it('watchFile sees a write through the cache at its next poll', async () => {
    cache.fs.writeFileSync('w.txt', 'x');
    const changed = new Promise<[fs.Stats, fs.Stats]>((resolve) => {
      cache.fs.watchFile('w.txt', { interval: 10 }, (curr: fs.Stats, prev: fs.Stats) => resolve([curr, prev]));
    });
    await new Promise((r) => setTimeout(r, 30));
    cache.fs.appendFileSync('w.txt', 'yz');
    const [curr, prev] = await changed;
    expect([prev.size, curr.size]).toEqual([1, 3]);
    cache.fs.unwatchFile('w.txt');
  });

  it('exists calls back with the result alone; openAsBlob has the cache\'s bytes', async () => {
    cache.fs.writeFileSync('e.txt', 'blob me');
    const results = await Promise.all(['e.txt', 'nope'].map((p) => new Promise<unknown[]>((res) => cache.fs.exists(p, (...a: unknown[]) => res(a)))));
    expect(results).toEqual([[true], [false]]);
    expect(await (await cache.fs.openAsBlob('e.txt', { type: 'text/plain' })).text()).toBe('blob me');
  });

  it('callbacks are never called synchronously, and a missing one is Node\'s error', async () => {
    cache.fs.writeFileSync('c.txt', 'cb');
    let returned = false;
    const got = new Promise<boolean>((res) => cache.fs.stat('c.txt', () => res(returned)));
    returned = true;
    expect(await got).toBe(true);
    const nodeError = (() => { try { (fs.stat as unknown as (p: string) => void)('c.txt'); } catch (e) { return e; } })() as Error & { code: string };
    const ourError = (() => { try { (cache.fs.stat as unknown as (p: string) => void)('c.txt'); } catch (e) { return e; } })() as Error & { code: string };
    expect({ code: ourError.code, message: ourError.message, type: ourError.constructor }).toEqual({ code: nodeError.code, message: nodeError.message, type: TypeError });
  });

  it('every function works detached from cache.fs, as with node:fs', async () => {
    const { writeFileSync, readFileSync, promises } = cache.fs;
    const { readFile } = promises;
    writeFileSync('d.txt', 'detached');
    expect(readFileSync('d.txt', 'utf8')).toBe('detached');
    expect(await readFile('d.txt', 'utf8')).toBe('detached');
  });
});
