/** `riocache inspect <region> [--json] [--no-verify]` */
import type { Command } from 'commander';
import { formatBytes } from '../../options';
import { table } from '../term';
import { inspectRegion, type InspectReport } from './inspect';

/** Exit codes: 0 consistent (clean or owned by a live process), 1 damaged, 2 crashed (needs recovery), 3 unreadable. */
export function exitCodeOf(r: InspectReport): number {
  return { clean: 0, live: 0, damaged: 1, crashed: 2, unreadable: 3 }[r.verdict];
}

export function formatInspect(r: InspectReport): string {
  const out: string[] = [];
  out.push(`region    ${r.path}`);
  out.push(`verdict   ${r.verdict}${r.verdict === 'crashed' ? ' (its owner died; `riocache recover` or the next open repairs it)' : ''}`);
  out.push(`owner     ${r.owner.held ? `held by ${r.owner.pid ? `process ${r.owner.pid}` : 'a live process'} (what follows may be caught mid-operation)` : 'none'}`);
  out.push(`header    slots ${r.header.slots.join(', ')}; current ${r.header.current}; version ${r.header.version}; shutdown ${r.header.shutdown}; generation ${r.header.generation}`);
  if (r.header.uuid) out.push(`uuid      ${r.header.uuid} (created ${r.header.createdAt})`);
  const g = r.geometry;
  if (g) {
    out.push(`geometry  ${formatBytes(g.regionBytes)}; ${g.bufferCount} blocks of ${g.blockBytes} B (${formatBytes(g.bufferCount * g.blockBytes)} of data); ` +
      `${g.fileSlots} file slots; undo ${formatBytes(g.undoBytes)}; segments ${formatBytes(g.segmentAreaBytes)}`);
    const b = r.buffers;
    out.push(`buffers   ${b.free} free, ${b.clean} clean, ${b.dirty} dirty, ${b.writing} writing`);
    out.push(`undo      ${r.undo?.state}${r.undo?.state === 'active' ? ` (${r.undo.records} records${r.undo.damaged ? ', damaged' : ''})` : ''}`);
    out.push(`intent    ${r.intent ?? 'none'}`);
    if (r.lists) {
      const l = (c: typeof r.lists.lru) => `${c.length} long${c.cycle ? ', cycle' : ''}${c.outOfRange ? ', link out of range' : ''}` +
        `${c.backLinkMismatches ? `, ${c.backLinkMismatches} bad back-links` : ''}${c.missingMembers ? `, ${c.missingMembers} unreachable` : ''}`;
      out.push(`lists     lru ${l(r.lists.lru)}; dirty ${l(r.lists.dirty)}`);
    }
    out.push(`checksums ${r.checksums.dirtyVerified} dirty buffers verified, ${r.checksums.dirtyCorrupt} corrupt`);
  }
  if (r.files.length > 0) {
    out.push('');
    out.push(table(['file', 'state', 'size', 'cached', 'dirty blocks', 'dirty bytes', 'pending'],
      r.files.map((f) => [f.path, f.state, f.size, f.cachedBlocks, f.dirtyBlocks, f.dirtyBytes,
        [f.sizeDirty ? 'length' : '', f.zeroFrom !== null ? `cut at ${f.zeroFrom}` : ''].filter(Boolean).join(', ') || '-'])));
  }
  if (r.repairable.length > 0) {
    out.push('', 'left by the crash (recovery repairs these):', ...r.repairable.map((p) => `  - ${p}`));
  }
  if (r.problems.length > 0) out.push('', 'problems:', ...r.problems.map((p) => `  - ${p}`));
  return out.join('\n');
}

export function registerInspect(program: Command): void {
  program
    .command('inspect')
    .description('read-only, fsck-style report on a region: header, geometry, files, dirty blocks, invariants')
    .argument('<region>', 'path of the region file')
    .option('--json', 'print one JSON object')
    .option('--no-verify', 'skip reading dirty buffers to verify their checksums')
    .addHelpText('after', '\nExit codes: 0 consistent (clean or live), 1 damaged, 2 crashed (needs recovery), 3 unreadable.')
    .action((region: string, opts: { json?: boolean; verify: boolean }) => {
      const report = inspectRegion(region, { verify: opts.verify });
      process.stdout.write(opts.json ? JSON.stringify(report, null, 2) + '\n' : formatInspect(report) + '\n');
      process.exitCode = exitCodeOf(report);
    });
}
