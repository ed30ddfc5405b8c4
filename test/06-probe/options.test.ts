/** Option validation: every error names its option (library) or its flag (command). */
import * as fs from 'node:fs';
import { join } from 'node:path';
import { Command } from 'commander';
import { afterAll, describe, expect, it } from 'vitest';
import { probe } from '../../src/tools/probe';
import { registerProbe } from '../../src/tools/probe/command';
import { validateProbeOptions } from '../../src/tools/probe/options';
import { scratchDir } from '../helpers';

const { dir, cleanup } = scratchDir('probe-options');
afterAll(cleanup);

function rejects(options: unknown, code: string, pattern: RegExp) {
  let error: (Error & { code?: string }) | undefined;
  try {
    validateProbeOptions(options);
  } catch (err) {
    error = err as Error & { code?: string };
  }
  expect(error, `no error for ${JSON.stringify(options)}`).toBeDefined();
  expect(error!.code).toBe(code);
  expect(error!.message).toMatch(pattern);
}

describe('validateProbeOptions', () => {
  it('fills in the documented defaults', () => {
    const s = validateProbeOptions({ target: 'riocache' });
    expect(s.blockBytes).toBe(4096);
    expect(s.riocache!.regionBytes).toBe(64 * 1024 * 1024);
    expect(s.maxBlocks).toBe((128 * 1024 * 1024) / 4096);
    expect(s.minBlocks).toBe(s.maxBlocks / 256);
    expect([s.scale, s.step, s.passes, s.sampleBlocks, s.resolution, s.minRatio]).toEqual(['geometric', 2, 3, 1024, 0.01, 2]);
  });

  it('accepts sizes as numbers or strings with units, and a linear step as a size', () => {
    const s = validateProbeOptions({ target: 'riocache', size: 16 << 20, min: '1MiB', max: '32 MiB', scale: 'linear', step: '2MiB' });
    expect([s.minBlocks, s.maxBlocks, s.step]).toEqual([256, 8192, 512]);
  });

  it('names the option in every error', () => {
    rejects(undefined, 'ERR_INVALID_ARG_TYPE', /"options"/);
    rejects({}, 'ERR_INVALID_ARG_VALUE', /"target" argument must be one of 'riocache', 'os'/);
    rejects({ target: 'disk' }, 'ERR_INVALID_ARG_VALUE', /"target"/);
    rejects({ target: 'riocache', colour: 'red' }, 'ERR_INVALID_ARG_VALUE', /"colour" argument is not a probe option/);
    rejects({ target: 'riocache', file: '/x' }, 'ERR_INVALID_ARG_VALUE', /"file" argument applies to the os target only/);
    rejects({ target: 'os', file: '/x', size: '1MiB' }, 'ERR_INVALID_ARG_VALUE', /"size" argument applies to the riocache target only/);
    rejects({ target: 'riocache', blockSize: 3000 }, 'ERR_INVALID_ARG_VALUE', /"blockSize" argument must be a power of two/);
    rejects({ target: 'riocache', blockSize: 256 }, 'ERR_OUT_OF_RANGE', /"blockSize"/);
    rejects({ target: 'riocache', size: 'lots' }, 'ERR_INVALID_ARG_VALUE', /"size"/);
    rejects({ target: 'riocache', size: '512KiB' }, 'ERR_OUT_OF_RANGE', /"size"/);
    rejects({ target: 'riocache', min: '64MiB', max: '32MiB' }, 'ERR_OUT_OF_RANGE', /"min"/);
    rejects({ target: 'riocache', max: 4096 }, 'ERR_OUT_OF_RANGE', /"max"/);
    rejects({ target: 'riocache', passes: 0 }, 'ERR_OUT_OF_RANGE', /"passes"/);
    rejects({ target: 'riocache', passes: 2.5 }, 'ERR_INVALID_ARG_TYPE', /"passes"/);
    rejects({ target: 'riocache', sampleBlocks: 1 << 20 }, 'ERR_OUT_OF_RANGE', /"sampleBlocks"/);
    rejects({ target: 'riocache', resolution: 0 }, 'ERR_OUT_OF_RANGE', /"resolution"/);
    rejects({ target: 'riocache', minRatio: 1 }, 'ERR_OUT_OF_RANGE', /"minRatio"/);
    rejects({ target: 'riocache', step: 1 }, 'ERR_OUT_OF_RANGE', /"step"/);
    rejects({ target: 'riocache', scale: 'log' }, 'ERR_INVALID_ARG_VALUE', /"scale"/);
    rejects({ target: 'riocache', scale: 'linear', step: 100 }, 'ERR_OUT_OF_RANGE', /"step"/);
    rejects({ target: 'riocache', dir: join(dir, 'missing') }, 'ERR_INVALID_ARG_VALUE', /"dir" argument must be an existing directory/);
  });

  it('refuses a region path that exists (the probe would destroy it)', () => {
    const region = join(dir, 'existing.rio');
    fs.writeFileSync(region, 'not mine');
    rejects({ target: 'riocache', region }, 'ERR_INVALID_ARG_VALUE', /"region" argument must not exist/);
    expect(fs.readFileSync(region, 'utf8')).toBe('not mine');
  });

  it('checks the os target file: present, long enough, or created on request', () => {
    rejects({ target: 'os' }, 'ERR_INVALID_ARG_TYPE', /"file"/);
    rejects({ target: 'os', file: join(dir, 'missing.dat') }, 'ERR_INVALID_ARG_VALUE', /"file" argument does not exist \(pass create/);
    const short = join(dir, 'short.dat');
    fs.writeFileSync(short, Buffer.alloc(1 << 20));
    rejects({ target: 'os', file: short, max: '64MiB' }, 'ERR_INVALID_ARG_VALUE', /"file" argument is too short/);
    rejects({ target: 'os', file: short, blockSize: 1024 }, 'ERR_OUT_OF_RANGE', /"blockSize".*4096/);
    const s = validateProbeOptions({ target: 'os', file: join(dir, 'new.dat'), create: true, max: '64MiB' });
    expect(s.maxBlocks).toBe(16384);
  });

  it('refuses a file on tmpfs, where nothing can be evicted', async () => {
    const onShm = join('/dev/shm', `riocache-probe-test-${process.pid}.dat`);
    fs.writeFileSync(onShm, Buffer.alloc(8 << 20, 1));
    try {
      await expect(probe({ target: 'os', file: onShm, max: '2MiB' })).rejects.toThrow(/"file" argument is on tmpfs/);
    } finally {
      fs.rmSync(onShm, { force: true });
    }
  });
});

describe('riocache probe flags', () => {
  async function run(args: string[]): Promise<Error> {
    const program = new Command('riocache').exitOverride().configureOutput({ writeErr: () => {} });
    registerProbe(program);
    try {
      await program.parseAsync(['probe', ...args], { from: 'user' });
    } catch (err) {
      return err as Error;
    }
    throw new Error(`no error for ${args.join(' ')}`);
  }

  it('rejects malformed numbers and unknown choices, naming the flag', async () => {
    expect((await run(['--target', 'riocache', '--passes', 'three'])).message).toMatch(/--passes must be a positive integer/);
    expect((await run(['--target', 'riocache', '--resolution', 'fine'])).message).toMatch(/--resolution must be a number/);
    expect((await run(['--target', 'tape'])).message).toMatch(/--target.*riocache, os/);
    expect((await run([])).message).toMatch(/--target/);
  });

  it('names the flag, not the library option, when the library refuses a value', async () => {
    expect((await run(['--target', 'riocache', '--block-size', '3000'])).message).toMatch(/^The --block-size option must be a power of two/);
    expect((await run(['--target', 'riocache', '--sample', '5'])).message).toMatch(/The --sample option is out of range/);
    expect((await run(['--target', 'os', '--size', '1MiB', '--file', '/x'])).message).toMatch(/The --size option applies to the riocache target only/);
  });
});
