/** A SIGKILL of this very process right before its n-th region store: a kill point a seed can replay. */
import { traceNewRegions } from '../../region/primitives';

export function installKill(at: number | undefined): void {
  if (at === undefined) return;
  let n = 0;
  traceNewRegions(() => {
    if (n++ === at) process.kill(process.pid, 'SIGKILL');
  });
}
