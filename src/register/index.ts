/**
 * `node --require riocache/register app.js` / `node --import riocache/register app.mjs`:
 * every node:fs call beneath $RIOCACHE_ROOT goes through a riocache cache,
 * with no change to the application (docs/register.md). A configuration
 * error stops the process before the application starts, naming the variable.
 */
import { install } from './install';

try {
  install();
} catch (err) {
  process.stderr.write(`riocache/register: ${(err as Error).message}\n`);
  process.exit(78); // EX_CONFIG: nothing of the application ran
}
