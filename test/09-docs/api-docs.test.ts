/**
 * docs/api.md against the code, both ways: every region error code, every
 * open option, every function of cache.fs, cache.fs.promises and FileHandle,
 * every public member of Cache, every stats and recovery-report field, every
 * export and every command-line option is documented, and the doc's tables
 * name nothing that does not exist. The functions and fields are taken from
 * live objects (a cache opened on a scratch region), not from a list kept here.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as api from '../../src';
import { openCacheSync, RegionErrorCodes, type Cache, type FileHandle } from '../../src';
import { CACHE_OPTION_NAMES, validateOptions } from '../../src/cache/open';
import { repoRoot, scratchDir } from '../helpers';

const docPath = join(repoRoot, 'docs', 'api.md');
const doc = fs.readFileSync(docPath, 'utf8');

// ------------------------------------------------------------------ markdown

/**
 * The text under `heading` (an exact heading line, e.g. '### Options') up to
 * the next heading of the same or a higher level. Lines inside code fences
 * are never taken for headings.
 */
function section(markdown: string, heading: string): string {
  const lines = markdown.split('\n');
  const level = heading.indexOf(' ');
  let fenced = false;
  let start = -1;
  let end = lines.length;
  for (let i = 0; i < lines.length; i++) {
    if (lines[i].startsWith('```')) fenced = !fenced;
    if (fenced) continue;
    const m = /^(#+) /.exec(lines[i]);
    if (!m) continue;
    if (start < 0) {
      if (lines[i].trimEnd() === heading) start = i;
    } else if (m[1].length <= level) {
      end = i;
      break;
    }
  }
  if (start < 0) throw new Error(`docs/api.md has no heading "${heading}" where this test looks for it`);
  return lines.slice(start + 1, end).join('\n');
}

/** The cells of a table row; `\|` inside a cell is not a separator. */
function cells(row: string): string[] {
  return row.trim().replace(/^\|/, '').replace(/\|$/, '').split(/(?<!\\)\|/).map((c) => c.trim());
}

/** The body rows of the first table in `text` (header and separator dropped). */
function firstTable(text: string): string[][] {
  const lines = text.split('\n');
  const start = lines.findIndex((l) => l.trimStart().startsWith('|'));
  if (start < 0) throw new Error(`no table in:\n${text.slice(0, 300)}`);
  const rows: string[][] = [];
  for (let i = start; i < lines.length && lines[i].trimStart().startsWith('|'); i++) rows.push(cells(lines[i]));
  expect(rows.length, 'a table needs a header, a separator and rows').toBeGreaterThan(2);
  expect(rows[1].every((c) => /^:?-+:?$/.test(c)), `second line of a table is not a separator: ${rows[1].join(' | ')}`).toBe(true);
  return rows.slice(2);
}

/** The backticked spans of a cell. */
function spans(cell: string): string[] {
  return [...cell.matchAll(/`([^`]+)`/g)].map((m) => m[1]);
}

/**
 * The names a first cell documents: `openSync(path, …)` -> openSync,
 * `cache.flush()` -> flush (prefix 'cache.'), `[Symbol.asyncDispose]()` ->
 * Symbol.asyncDispose, `--root <dir>` -> --root. A cell that names nothing
 * yields its own text, so that a malformed row shows up as an unknown name.
 */
function namesIn(cell: string, prefix = ''): string[] {
  const out = new Set<string>();
  for (const span of spans(cell)) {
    if (!span.startsWith(prefix)) continue;
    const m = /^\[?(--[\w-]+|[\w.]+)\]?/.exec(span.slice(prefix.length));
    if (m) out.add(m[1]);
  }
  return out.size > 0 ? [...out] : [`<unparsed: ${cell}>`];
}

/** Names of the first column of the first table of a section. */
function documented(text: string, prefix = ''): string[] {
  return firstTable(text).flatMap((row) => namesIn(row[0], prefix));
}

/** Both ways: what the code has and the doc lacks, and what the doc names and the code lacks. */
function expectSameNames(what: string, inDoc: string[], inCode: string[]): void {
  const doc = new Set(inDoc);
  const code = new Set(inCode);
  expect(inCode.length, `${what}: nothing found in the code (the test is broken)`).toBeGreaterThan(0);
  expect([...code].filter((n) => !doc.has(n)).sort(), `${what}: in the code, missing from docs/api.md`).toEqual([]);
  expect([...doc].filter((n) => !code.has(n)).sort(), `${what}: in docs/api.md, not in the code`).toEqual([]);
  expect(inDoc.filter((n, i) => inDoc.indexOf(n) !== i), `${what}: documented twice`).toEqual([]);
}

// ------------------------------------------------------------------ the code

/**
 * Members a class's source declares private, protected or @internal:
 * JavaScript reaches them, but they are not the public API. Members sit at
 * two spaces of indentation, optionally after a JSDoc block; parameter
 * properties are read from the constructor.
 */
function hiddenMembers(file: string, className: string): Set<string> {
  const src = fs.readFileSync(join(repoRoot, file), 'utf8');
  const start = src.indexOf(`export class ${className} `);
  if (start < 0) throw new Error(`${file} declares no class ${className}`);
  const end = src.indexOf('\n}\n', start);
  const body = src.slice(start, end < 0 ? undefined : end);
  const hidden = new Set<string>();
  const member = /^ {2}(\/\*\*(?:(?!\*\/)[\s\S])*\*\/\s*)?((?:(?:private|protected|public|readonly|static|async|get|set)\s+)*)(\w+)\s*[(<:=;?!]/gm;
  for (const m of body.matchAll(member)) {
    if (/\b(private|protected)\b/.test(m[2]) || (m[1] ?? '').includes('@internal')) hidden.add(m[3]);
  }
  const ctor = /constructor\(([^)]*)\)/.exec(body);
  for (const param of ctor?.[1].split(',') ?? []) {
    const m = /^\s*((?:(?:private|protected|public|readonly)\s+)+)(\w+)/.exec(param);
    if (m && /\b(private|protected)\b/.test(m[1])) hidden.add(m[2]);
  }
  return hidden;
}

/** `Symbol.asyncDispose` for the well-known symbol, whatever its description says. */
function symbolName(s: symbol): string {
  for (const key of Object.getOwnPropertyNames(Symbol)) {
    if ((Symbol as unknown as Record<string, unknown>)[key] === s) return `Symbol.${key}`;
  }
  return String(s);
}

/**
 * The public functions of a live object: its own function-valued properties
 * (arrow-function members) and the methods of its class, minus the hidden
 * members and the constructor.
 */
function publicFunctions(obj: object, hidden: Set<string>): string[] {
  const own = Object.entries(obj).filter(([, v]) => typeof v === 'function').map(([k]) => k);
  const proto = Object.getPrototypeOf(obj) as object;
  const methods = Object.getOwnPropertyNames(proto).filter((k) => {
    const d = Object.getOwnPropertyDescriptor(proto, k)!;
    return typeof d.value === 'function';
  });
  const symbols = Object.getOwnPropertySymbols(proto).map(symbolName);
  return [...new Set([...own, ...methods, ...symbols])].filter((k) => k !== 'constructor' && !hidden.has(k));
}

/** The public data properties of a live object (own, not functions, not hidden, not Node's `_` internals). */
function publicProperties(obj: object, hidden: Set<string>): string[] {
  return Object.entries(obj).filter(([k, v]) => typeof v !== 'function' && !hidden.has(k) && !k.startsWith('_')).map(([k]) => k);
}

// ------------------------------------------------------------------ a live cache

const { dir, cleanup } = scratchDir('api-docs');
let cache: Cache;
let handle: FileHandle;

beforeAll(async () => {
  const root = join(dir, 'root');
  fs.mkdirSync(root);
  cache = openCacheSync({ region: join(dir, 'region.rio'), root, size: '1MiB' });
  handle = await cache.fs.promises.open('file', 'w+');
});

afterAll(async () => {
  await handle?.close();
  await cache?.close();
  cleanup();
});

// ------------------------------------------------------------------ the checks

describe('docs/api.md', () => {
  it('the member parser sees private and @internal members, and only those', () => {
    const fsHidden = hiddenMembers('src/fs/sync.ts', 'CacheFs');
    expect([...fsHidden].sort()).toEqual(['cache', 'writeWhole']);
    const cacheHidden = hiddenMembers('src/cache/cache.ts', 'Cache');
    for (const name of [
      'engine', 'rootFd', 'handles', 'io', 'names', 'txs', 'assertOpen', 'needsFlush', 'shut', 'region',
    ]) {
      expect(cacheHidden.has(name), `${name} should be hidden`).toBe(true);
    }
    for (const name of ['flush', 'close', 'stats', 'segment', 'transaction', 'closed', 'recovery', 'fs', 'atomicWriteBytesMax']) {
      expect(cacheHidden.has(name), `${name} should be public`).toBe(false);
    }
  });

  it('(a) the table of region error codes lists exactly the codes of src/errors.ts', () => {
    const rows = firstTable(section(section(doc, '## Errors'), '### Region error codes'));
    const malformed = rows.map((r) => r[0]).filter((c) => !/^`[A-Z][A-Z0-9_]*`$/.test(c));
    expect(malformed, 'first cells that are not one backticked code').toEqual([]);
    expect(rows.every((r) => r.length >= 3 && r[1] !== '' && r[2] !== ''), 'every code says when and what to do').toBe(true);
    expectSameNames('region error codes', rows.map((r) => spans(r[0])[0]), Object.keys(RegionErrorCodes));
  });

  it('(a) every region error code is raised (or emitted) somewhere in src: the table lists no dead codes', () => {
    const sources: string[] = [];
    const walk = (d: string) => {
      for (const e of fs.readdirSync(d, { withFileTypes: true })) {
        if (e.isDirectory()) walk(join(d, e.name));
        else if (e.name.endsWith('.ts') && join(d, e.name) !== join(repoRoot, 'src', 'errors.ts')) sources.push(fs.readFileSync(join(d, e.name), 'utf8'));
      }
    };
    walk(join(repoRoot, 'src'));
    const raised = (code: string) => sources.some((src) => new RegExp(`(regionError|RioError)\\(\\s*'${code}'`).test(src));
    expect(Object.keys(RegionErrorCodes).filter((code) => !raised(code)), 'codes never passed to regionError/RioError').toEqual([]);
  });

  it('(b) the options table lists exactly the options openCache accepts, writeBack keys included', () => {
    const names = documented(section(section(doc, '## Opening a cache'), '### Options'));
    const validated = validateOptions({ region: join(dir, 'unused.rio'), root: dir });
    const writeBackKeys = Object.keys(validated.policy);
    expect(writeBackKeys.length).toBeGreaterThan(0);
    expectSameNames('open options', names, [...CACHE_OPTION_NAMES, ...writeBackKeys.map((k) => `writeBack.${k}`)]);
    // Each documented writeBack key is one the validator accepts (it refuses unknown ones).
    for (const name of names.filter((n) => n.startsWith('writeBack.'))) {
      const key = name.slice('writeBack.'.length);
      expect(() => validateOptions({ region: 'r', root: dir, writeBack: { [key]: 1 } }), name).not.toThrow();
    }
    expect(() => validateOptions({ region: 'r', root: dir, writeBack: { noSuchKey: 1 } })).toThrow(/not a write-back option/);
  });

  describe('(c) cache.fs, cache.fs.promises and FileHandle', () => {
    it('every function of cache.fs is in its table, and the table names only those', () => {
      const text = section(doc, '## cache.fs');
      const hidden = hiddenMembers('src/fs/sync.ts', 'CacheFs');
      expectSameNames('cache.fs functions', documented(text), publicFunctions(cache.fs, hidden));
      for (const prop of publicProperties(cache.fs, hidden)) expect(text, `cache.fs.${prop}`).toContain(`\`cache.fs.${prop}\``);
    });

    it('every function of cache.fs.promises is in its table', () => {
      const text = section(section(doc, '## cache.fs.promises and FileHandle'), '### cache.fs.promises');
      const hidden = hiddenMembers('src/fs/promises.ts', 'CachePromises');
      expectSameNames('cache.fs.promises functions', documented(text), publicFunctions(cache.fs.promises, hidden));
    });

    it('every method of FileHandle is in its table', () => {
      const text = section(section(doc, '## cache.fs.promises and FileHandle'), '### FileHandle');
      const hidden = hiddenMembers('src/fs/promises.ts', 'FileHandle');
      expectSameNames('FileHandle methods', documented(text), publicFunctions(handle, hidden));
      for (const prop of publicProperties(handle, hidden)) expect(text, `FileHandle.${prop}`).toContain(`\`${prop}\``);
    });
  });

  it('every public member of Cache is in its table', () => {
    const hidden = hiddenMembers('src/cache/cache.ts', 'Cache');
    const proto = Object.getPrototypeOf(cache) as object;
    const accessors = Object.getOwnPropertyNames(proto).filter((k) => Object.getOwnPropertyDescriptor(proto, k)!.get && !hidden.has(k));
    const members = [...publicFunctions(cache, hidden), ...accessors, ...publicProperties(cache, hidden)];
    const text = section(section(doc, '## The Cache object'), '### Members');
    expectSameNames('Cache members', documented(text, 'cache.'), members);
  });

  it('every field of stats() and of the recovery report is in its table', () => {
    expectSameNames('CacheStats fields', documented(section(doc, '## Stats')), Object.keys(cache.stats()));
    expectSameNames('RecoveryReport fields', documented(section(doc, '## The recovery report')), Object.keys(cache.recovery));
  });

  it('every export of the package is in the table of exports', () => {
    expectSameNames('exports', documented(section(doc, '## Other exports')), Object.keys(api));
  });

  it('every command and option of the command line is documented', () => {
    const cli = join(repoRoot, 'dist', 'src', 'cli.js');
    expect(fs.existsSync(cli), `${cli} is missing: run npm run build first`).toBe(true);
    const help = (args: string[]) => {
      const r = spawnSync(process.execPath, [cli, ...args, '--help'], { encoding: 'utf8' });
      expect(r.status, r.stderr).toBe(0);
      return r.stdout;
    };
    const listed = /\nCommands:\n([\s\S]*?)(?:\n\n|$)/.exec(help([]))?.[1] ?? '';
    const commands = [...listed.matchAll(/^ {2}(\w[\w-]*)/gm)].map((m) => m[1]).filter((c) => c !== 'help');
    const text = section(doc, '## Command line');
    const headings = [...text.matchAll(/^### riocache (\S+)/gm)].map((m) => m[1]);
    expectSameNames('commands', headings, commands);
    for (const command of commands) {
      const options = /\nOptions:\n([\s\S]*?)(?:\n\n|$)/.exec(help([command]))?.[1] ?? '';
      const flags = [...options.matchAll(/^ {2}(?:-\w, )?(--[\w-]+)/gm)].map((m) => m[1]).filter((f) => f !== '--help');
      expectSameNames(`riocache ${command} options`, documented(section(text, `### riocache ${command}`)), flags);
    }
  });
});
