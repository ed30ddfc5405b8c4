#!/usr/bin/env node
/** The riocache command line: a thin dispatcher over the tools in src/tools. */
import { Command } from 'commander';
import { RioError } from './errors';
import { registerCrashtest } from './tools/crashtest/command';
import { registerInspect } from './tools/inspect/command';
import { registerProbe } from './tools/probe/command';
import { registerRecover } from './tools/recover/command';
import { registerRun } from './tools/run/command';

const program = new Command('riocache')
  .description('riocache: a persistent buffer cache for Node.js that survives SIGKILL')
  .version(require('../../package.json').version)
  .showHelpAfterError()
  .enablePositionalOptions(); // `run` passes everything after its command on untouched

registerRecover(program);
registerInspect(program);
registerCrashtest(program);
registerProbe(program);
registerRun(program);

program.parseAsync(process.argv).catch((err: unknown) => {
  const e = err as RioError;
  process.stderr.write(`riocache: ${e.message ?? String(err)}\n`);
  process.exitCode = e.code === 'REGION_LOCKED' ? 4 : 3;
});
