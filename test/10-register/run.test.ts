/**
 * `riocache run --root DIR -- node app.js`: the command runs under the hook
 * with its own NODE_OPTIONS kept, nothing of riocache's is printed unless
 * --verbose, and its exit code and signal come back as the tool's.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../helpers';
import { world } from './child';

const cli = join(repoRoot, 'dist', 'src', 'cli.js');
const w = world('run');
afterAll(() => w.cleanup());

const riocacheRun = (args: string[], env: NodeJS.ProcessEnv = {}) =>
  spawnSync(process.execPath, [cli, 'run', ...args], { encoding: 'utf8', env: { ...process.env, ...env } });

describe('riocache run', () => {
  it('runs the command under the hook, keeping its NODE_OPTIONS, printing nothing of its own', () => {
    const program = `const fs = require('fs'); fs.writeFileSync(${JSON.stringify(join(w.root, 'x'))}, 'through');
      console.log(JSON.stringify({ options: process.env.NODE_OPTIONS, cached: fs.openSync(${JSON.stringify(join(w.root, 'x'))}, 'r') >= 2 ** 24,
        heap: require('v8').getHeapStatistics().heap_size_limit < 200 * 1024 * 1024 }));`;
    const r = riocacheRun(['--root', w.root, '--region', w.region, '--', process.execPath, '-e', program], { NODE_OPTIONS: '--max-old-space-size=100' });
    expect(r.status).toBe(0);
    expect(r.stderr).toBe('');
    const out = JSON.parse(r.stdout);
    expect(out.cached).toBe(true);
    expect(out.heap).toBe(true); // the command's own NODE_OPTIONS still apply
    expect(out.options).toMatch(/^--max-old-space-size=100 --require ".*register\/index\.js"$/);
    expect(fs.readFileSync(join(w.root, 'x'), 'utf8')).toBe('through');
  });

  it('passes the exit code and the signal of the command through', () => {
    expect(riocacheRun(['--root', w.root, '--region', w.region, '--', process.execPath, '-e', 'process.exit(7)']).status).toBe(7);
    const killed = riocacheRun(['--root', w.root, '--region', w.region, '--', process.execPath, '-e', "process.kill(process.pid, 'SIGTERM')"]);
    expect(killed.signal).toBe('SIGTERM');
  });

  it('says what the hook does with --verbose, and names a bad flag', () => {
    const v = riocacheRun(['--root', w.root, '--region', w.region, '--verbose', '--', process.execPath, '-e', '1']);
    expect(v.stderr).toContain(`riocache run: root ${w.root}, region ${w.region}`);
    expect(v.stderr).toMatch(/riocache\[\d+\]: closed at exit/);
    const bad = riocacheRun(['--root', join(w.root, 'missing'), '--', process.execPath, '-e', '1']);
    expect(bad.status).not.toBe(0);
    expect(bad.stderr).toContain('The --root option must be an existing directory');
    const size = riocacheRun(['--root', w.root, '--size', 'lots', '--', process.execPath, '-e', '1']);
    expect(size.stderr).toContain('The --size option');
  });
});
