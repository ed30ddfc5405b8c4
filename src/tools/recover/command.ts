/** `riocache recover <region> --root <dir> [--json] [--drop-clean]`: the warm reboot without the application. */
import { resolve } from 'node:path';
import type { Command } from 'commander';
import type { Cache } from '../../cache/cache';
import { openExistingCacheSync } from '../../open';
import { systemError } from '../../errors';
import { formatBytes } from '../../options';
import type { RecoveryReport } from '../../recovery/report';
import { progressBar } from '../term';

export interface RecoverResult {
  region: string;
  root: string;
  recovered: boolean;
  report: RecoveryReport;
}

/**
 * Opens the region (taking its lock: a region owned by a live process is
 * refused, untouched), lets the warm reboot run, and closes it clean. A
 * path where no region file exists is ENOENT: there is nothing to recover,
 * and creating a fresh region there would only hide a wrong path.
 */
export function recoverRegionFile(region: string, root: string, keepClean: boolean, onProgress?: (done: number, total: number) => void): RecoverResult {
  let cache: Cache;
  try {
    cache = openExistingCacheSync({ region, root, keepCleanBuffers: keepClean, onRecoveryProgress: onProgress });
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'ENOENT' && e.syscall === 'open' && e.path === resolve(region)) {
      throw systemError('ENOENT', 'open', e.path, undefined, 'no such file or directory (no region to recover there; nothing was created)');
    }
    throw err;
  }
  const report = cache.recovery;
  cache.closeSync();
  return { region, root, recovered: report.ran, report };
}

export function formatRecovery(r: RecoverResult): string {
  const rep = r.report;
  if (!r.recovered) return `${r.region}: closed cleanly by its last owner; nothing to recover.`;
  const lines = [
    `recovered ${r.region} into ${r.root} in ${rep.durationMs.toFixed(1)} ms`,
    `  dirty buffers found ${rep.dirtyBuffersFound}, written ${rep.dirtyBuffersWritten} (${formatBytes(rep.bytesWritten)}) to ${rep.filesTouched.length} file(s)`,
    `  interrupted write rolled back: ${rep.undo.rolledBack ? `yes (${rep.undo.records} records)` : 'no'}; ` +
      `rename/unlink completed: ${rep.intent.operation ?? 'none'}`,
    `  links repaired ${rep.linksRepaired} (lru: ${rep.lists.lru.backLinksRepaired} back-links, ${rep.lists.lru.relinked} relinked` +
      `${rep.lists.lru.cycleBroken ? ', cycle broken' : ''}; dirty: ${rep.lists.dirty.backLinksRepaired} back-links, ${rep.lists.dirty.relinked} relinked)`,
    `  clean buffers kept ${rep.cleanBuffersKept}, dropped ${rep.cleanBuffersDropped}; buffers clamped to their file's size ${rep.buffersClamped}`,
    `  corrupt buffers quarantined ${rep.corruptBuffers}${rep.lostAndFound ? ` (in ${r.root}/${rep.lostAndFound})` : ''}`,
  ];
  if (rep.problems.length > 0) lines.push('  problems:', ...rep.problems.map((p) => `    - ${p}`));
  return lines.join('\n');
}

export function registerRecover(program: Command): void {
  program
    .command('recover')
    .description('run the warm reboot on a region whose owner died: write every surviving dirty buffer to its file')
    .argument('<region>', 'path of the region file')
    .requiredOption('--root <dir>', 'the directory the cached paths are relative to')
    .option('--json', 'print one JSON object')
    .option('--drop-clean', 'drop clean buffers instead of keeping the cache warm')
    .action((region: string, opts: { root: string; json?: boolean; dropClean?: boolean }) => {
      const bar = progressBar('recovering', !opts.json && process.stderr.isTTY === true);
      const result = recoverRegionFile(region, opts.root, !opts.dropClean, (done, total) =>
        bar.update(done, total, `${formatBytes(done)} / ${formatBytes(total)}`));
      bar.done();
      process.stdout.write(opts.json ? JSON.stringify(result, null, 2) + '\n' : formatRecovery(result) + '\n');
      process.exitCode = result.report.corruptBuffers > 0 || result.report.ioErrors > 0 ? 1 : 0;
    });
}
