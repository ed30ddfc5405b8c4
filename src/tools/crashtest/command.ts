/** `riocache crashtest`: the kill-and-restart harness from the command line. */
import type { Command } from 'commander';
import { formatBytes } from '../../options';
import { progressBar, table } from '../term';
import { runCampaign, type CampaignResult } from './campaign';
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

export function registerCrashtest(program: Command): void {
  program
    .command('crashtest')
    .description('kill-and-restart campaign: SIGKILL a workload at random instants, recover, verify every acknowledged write')
    .option('--kills <n>', 'number of kills', '400')
    .option('--seed <s>', 'seed (a failure prints the command that replays it)', String(Math.floor(Math.random() * 1e9)))
    .option('--workload <name|path>', `${Object.keys(builtins).join(', ')}, or a module exporting a workload`, 'mixed')
    .option('--region-size <size>', 'region size (default: the workload\'s)')
    .option('--block-size <bytes>', 'block size', '4096')
    .option('--kill-during-recovery <p>', 'probability that a recovery is killed too', '0.2')
    .option('--corrupt <p>', 'probability that a dirty buffer is damaged between kill and restart', '0')
    .option('--keep', 'keep the failing case\'s region and files')
    .option('--json', 'print one JSON object')
    .action(async (opts: Record<string, string | boolean | undefined>) => {
      const json = opts.json === true;
      const kills = Number(opts.kills);
      const bar = progressBar('crashtest', !json && process.stderr.isTTY === true);
      const result = await runCampaign({
        kills, seed: Number(opts.seed), workload: String(opts.workload), regionSize: opts.regionSize as string | undefined,
        blockSize: Number(opts.blockSize), killDuringRecovery: Number(opts.killDuringRecovery), corrupt: Number(opts.corrupt),
        keep: opts.keep === true,
        onProgress: (p) => bar.update(p.kills, p.total, `kills ${p.kills}/${p.total}, recoveries ${p.recoveries}, ` +
          `writes verified ${p.writesVerified}, failures ${p.failures}`),
      });
      bar.done();
      process.stdout.write(json ? JSON.stringify(result, null, 2) + '\n' : formatCampaign(result) + '\n');
      process.exitCode = result.ok ? 0 : 1;
    });
}
