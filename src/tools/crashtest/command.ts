/** `riocache crashtest`: the kill-and-restart harness from the command line. */
import type { Command } from 'commander';
import { renameOption } from '../flags';
import { formatBytes } from '../../options';
import { progressBar, table } from '../term';
import { runCampaign, RUN_MS_DEFAULT, validateCampaign, type CampaignOptions, type CampaignProgress, type CampaignResult } from './campaign';
import { builtins } from './workloads';

export function formatCampaign(r: CampaignResult): string {
  const rows: Array<[string, string | number]> = [
    ['workload', r.workload],
    ['seed', r.seed],
    ['kills (timed / at a store)', `${r.kills} (${r.killsByTimer} / ${r.killsAtStore})`],
    ['recoveries (workload / riocache recover)', `${r.recoveries} (${r.recoveriesByWorkload} / ${r.recoveriesByCli})`],
    ['kills during recovery', r.killsDuringRecovery],
    ['acknowledged writes', r.acknowledgedWrites],
    ['acknowledged operations', r.acknowledgedOps],
    ['in-flight operations found applied / absent', `${r.inFlightApplied} / ${r.inFlightAbsent}`],
    ['bytes verified', formatBytes(r.bytesVerified)],
    ['lost (G1)', r.lost],
    ['torn (G2)', r.torn],
    ['order violations (G3)', r.orderViolations],
    ['unexpected files or data', r.unexpected],
    ['corruptions injected / detected (G5)', `${r.corruptionsInjected} / ${r.corruptionsDetected}`],
    ...(r.workload === 'transfer' ? [['totals checked (files = segment = opening total)', r.totalsChecked] as [string, number]] : []),
    ['recovery failures', r.recoveryFailures],
    ['workload failures', r.workloadFailures],
    ['time', `${(r.durationMs / 1000).toFixed(1)} s`],
  ];
  const lines = [table(['check', 'result'], rows.map(([a, b]) => [a, b]))];
  lines.push('', r.ok ? 'PASS: no acknowledged write lost, none torn, no recovery failed.' : 'FAIL');
  for (const f of r.failures) {
    lines.push('', `kill ${f.kill}: ${f.check}`, ...f.details.map((d) => `  ${d}`));
    if (f.kept) lines.push(`  kept: ${f.kept}`);
  }
  if (!r.ok) lines.push('', `replay: ${r.replay}`);
  return lines.join('\n');
}

/** Library option name -> the flag a user typed, so that errors name what the user can fix. */
const flagOf: Record<string, string> = {
  kills: '--kills', seed: '--seed', workload: '--workload', regionSize: '--region-size', blockSize: '--block-size',
  segmentAreaSize: '--segment-area-size', killDuringRecovery: '--kill-during-recovery', corrupt: '--corrupt',
  runMs: '--run-ms', dir: '--dir', keep: '--keep',
};

interface Flags {
  kills: string;
  seed: string;
  workload: string;
  regionSize?: string;
  blockSize: string;
  segmentAreaSize?: string;
  killDuringRecovery: string;
  corrupt: string;
  runMs?: string;
  dir?: string;
  keep?: boolean;
  json?: boolean;
}

/** A number when the text is one; else the text itself, for validateCampaign to refuse by name. */
function numeric(text: string): number | string {
  const n = Number(text);
  return text.trim() !== '' && Number.isFinite(n) ? n : text;
}

/** The flags as campaign options (validated by validateCampaign, which names the option; renameOption makes it the flag). */
export function toCampaignOptions(f: Flags): Partial<CampaignOptions> {
  const runMs = f.runMs === undefined ? undefined : f.runMs.split(',').map(numeric);
  return {
    kills: numeric(f.kills) as number, seed: numeric(f.seed) as number, workload: f.workload, regionSize: f.regionSize,
    blockSize: numeric(f.blockSize) as number, segmentAreaSize: f.segmentAreaSize,
    killDuringRecovery: numeric(f.killDuringRecovery) as number, corrupt: numeric(f.corrupt) as number,
    // One number is a fixed delay.
    runMs: (runMs?.length === 1 ? [runMs[0], runMs[0]] : runMs) as [number, number] | undefined,
    dir: f.dir, keep: f.keep === true,
  };
}

/** The progress bar's text. */
export function progressText(p: CampaignProgress): string {
  return `kills ${p.kills}/${p.total}, recoveries ${p.recoveries}, acknowledged writes ${p.acknowledgedWrites}, failures ${p.failures}`;
}

export function registerCrashtest(program: Command): void {
  program
    .command('crashtest')
    .description('kill-and-restart campaign: SIGKILL a workload at random instants, recover, verify every acknowledged write')
    .option('--kills <n>', 'number of kills', '400')
    .option('--seed <s>', 'seed (a failure prints the command that replays it)', String(Math.floor(Math.random() * 1e9)))
    .option('--workload <name|path>', `${Object.keys(builtins).join(', ')}, or a module exporting a workload`, 'mixed')
    .option('--region-size <size>', 'region size (default: the workload\'s)')
    .option('--block-size <bytes>', 'block size', '4096')
    .option('--segment-area-size <size>', 'segment area, for cache.segment() (default: the workload\'s, else 0)')
    .option('--kill-during-recovery <p>', 'probability that a recovery is killed too', '0.2')
    .option('--corrupt <p>', 'probability that a dirty buffer is damaged between kill and restart', '0')
    .option('--run-ms <min,max>', `range of a timed kill's delay, in ms (default: ${RUN_MS_DEFAULT.join(',')})`)
    .option('--dir <path>', 'where to make the campaign\'s directory (default: /dev/shm, else the temp directory)')
    .option('--keep', 'keep the failing case\'s region and files')
    .option('--json', 'print one JSON object')
    .addHelpText('after', [
      '',
      'Exit codes: 0 the campaign passed, 1 it failed, 3 an invalid option value.',
      'The harness, its checks and how to write a workload: docs/crashtest.md.',
    ].join('\n'))
    .action(async (flags: Flags) => {
      const json = flags.json === true;
      let options: CampaignOptions;
      try {
        // Every value is checked before anything runs: an error names the flag (exit 3, from the dispatcher).
        options = validateCampaign(toCampaignOptions(flags));
      } catch (err) {
        throw renameOption(err, flagOf);
      }
      const bar = progressBar('crashtest', !json && process.stderr.isTTY === true);
      const result = await runCampaign({ ...options, onProgress: (p) => bar.update(p.kills, p.total, progressText(p)) });
      bar.done();
      process.stdout.write(json ? JSON.stringify(result, null, 2) + '\n' : formatCampaign(result) + '\n');
      process.exitCode = result.ok ? 0 : 1;
    });
}
