/** `riocache run --root DIR [--region FILE] [--size S] [--verbose] -- node app.js`: src/tools/run/run.ts. */
import type { Command } from 'commander';
import { renameOption } from '../flags';
import { runCommand } from './run';

export function registerRun(program: Command): void {
  program
    .command('run')
    .description('run a command with every fs call beneath --root going through a riocache cache (riocache/register)')
    .requiredOption('--root <dir>', 'the data directory whose writes go through the cache')
    .option('--region <file>', 'the region file, first of its pool (default /dev/shm/riocache-<hash of root>.rio)')
    .option('--size <bytes>', 'region size when it is created, e.g. 256MiB')
    .option('--verbose', 'report the region, the warm reboot and the close on stderr')
    .argument('<command...>', 'the command to run, after --')
    .passThroughOptions()
    .action(async (command: string[], opts: { root: string; region?: string; size?: string; verbose?: boolean }) => {
      let result;
      try {
        result = await runCommand({ ...opts, command, log: (l) => process.stderr.write(`${l}\n`) });
      } catch (err) {
        throw renameOption(err, { root: '--root', region: '--region', size: '--size', command: '<command>' });
      }
      if (result.signal) {
        // Die of the same signal, as a shell would see the command die.
        process.kill(process.pid, result.signal);
        return;
      }
      process.exitCode = result.code ?? 1;
    });
}
