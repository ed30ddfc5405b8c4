/**
 * A clean entry outlives its file's name: while the region is closed another
 * program may rename the file (logrotate, mv) or delete it, and the file
 * system may give the freed inode number to a file created later (ext4 reuses
 * freed inodes at once). Data written to that inode must be filed under the
 * name it is written by: a real child writes through the cache, is SIGKILLed
 * with everything dirty, and the warm reboot must put every byte under the
 * new names, quarantine nothing and bring none of the old names back.
 */
import * as fs from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openCacheSync } from '../../src';
import { killHard, scratchDir, spawnFixture } from '../helpers';

const COUNT = 24;
const { dir, cleanup } = scratchDir('reused-inode');
// A file system that reuses inode numbers (tmpfs does not): the system's temporary directory, ext4 here.
const base = fs.mkdtempSync(join(tmpdir(), 'riocache-test-reused-inode-'));
afterAll(() => {
  cleanup();
  fs.rmSync(base, { recursive: true, force: true });
});

/** A region whose clean entries name old-0 … old-N, closed; `change` then acts on the disk alone. Returns their inodes. */
function leaveEntries(region: string, root: string, change: (name: string) => void): Set<number> {
  fs.mkdirSync(root);
  const first = openCacheSync({ region, root, size: 1 << 20, maxFiles: 64 }); // room for both generations: no slot is taken back
  for (let i = 0; i < COUNT; i++) first.fs.writeFileSync(`old-${i}`, `old contents ${i}\n`);
  first.closeSync();
  const inodes = new Set<number>();
  for (let i = 0; i < COUNT; i++) {
    inodes.add(fs.statSync(join(root, `old-${i}`)).ino);
    change(`old-${i}`);
  }
  return inodes;
}

/** The child's run and the warm reboot after its SIGKILL: every new-N holds what the child wrote. */
async function writeKillRecover(region: string, root: string): Promise<Record<string, number>> {
  const child = spawnFixture('reused-inode-writer.js', [region, root, String(COUNT)]);
  let inodes: Record<string, number>;
  let before: string[];
  try {
    ({ inodes } = (await child.next()) as { inodes: Record<string, number> });
    before = Object.keys(inodes).map((f) => fs.readFileSync(join(root, f), 'utf8'));
  } finally {
    await killHard(child);
  }
  const names = Object.keys(inodes);
  const wanted = (f: string) => `new contents ${f.slice(4)}\n`;
  // Nothing was written back: only the warm reboot can put the bytes in place.
  expect(before.filter((text, i) => text === wanted(names[i]))).toEqual([]);
  const cache = openCacheSync({ region, root });
  expect(cache.recovery.ran).toBe(true);
  expect(cache.recovery.quarantined).toEqual([]);
  cache.closeSync();
  expect(Object.fromEntries(names.map((f) => [f, fs.readFileSync(join(root, f), 'utf8')])))
    .toEqual(Object.fromEntries(names.map((f) => [f, wanted(f)])));
  expect(fs.readdirSync(root).filter((f) => f.startsWith('old-'))).toEqual([]);
  return inodes;
}

describe('an entry whose file lost its name while the region was closed', () => {
  it('a file renamed by another program: writes by its new name survive a SIGKILL under that name', async () => {
    const root = join(base, 'renamed');
    leaveEntries(join(dir, 'renamed.rio'), root, (name) => fs.renameSync(join(root, name), join(root, name.replace('old', 'new'))));
    await writeKillRecover(join(dir, 'renamed.rio'), root);
  });

  it('a file deleted, its inode number given to a new file: the new file keeps its data through a SIGKILL', async (ctx) => {
    const root = join(base, 'reused');
    const old = leaveEntries(join(dir, 'reused.rio'), root, (name) => fs.unlinkSync(join(root, name)));
    const inodes = await writeKillRecover(join(dir, 'reused.rio'), root);
    if (!Object.values(inodes).some((ino) => old.has(ino))) {
      ctx.skip(`the file system of ${root} gave none of the freed inode numbers to the new files, so the case did not arise`);
    }
  });
});
