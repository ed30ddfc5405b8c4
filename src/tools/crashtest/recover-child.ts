/**
 * Runs `riocache recover` (the same function the CLI runs) in a process
 * that SIGKILLs itself before a chosen region store: a kill inside the
 * recovery, at a point the seed decides. Prints the result as JSON.
 */
import { recoverRegionFile } from '../recover/command';
import { installKill } from './kill';

const [region, root, at] = process.argv.slice(2);
installKill(at === undefined ? undefined : Number(at));
const result = recoverRegionFile(region, root, true);
process.stdout.write(JSON.stringify(result));
