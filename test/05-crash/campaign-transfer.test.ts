/**
 * A real crash campaign on the built-in 'transfer' workload: real processes, real
 * SIGKILLs (timed, and at chosen region stores), kills inside recovery,
 * damaged dirty buffers. With the other two workloads' files: more than 300
 * kills in every CI run. RIOCACHE_CRASH_SEED replays another seed.
 */
import { describe, expect, it } from 'vitest';
import { runCampaign } from '../../src/tools/crashtest/campaign';

const seed = Number(process.env.RIOCACHE_CRASH_SEED ?? 44004);

describe('crash campaign: transfer', () => {
  it('keeps every total, loses no acknowledged transfer, tears none', async () => {
    const r = await runCampaign({ workload: 'transfer', kills: 80, seed, killDuringRecovery: 0.25, corrupt: 0 });
    console.log(`transfer: kills ${r.kills}, recoveries ${r.recoveries}, kills during recovery ${r.killsDuringRecovery}, ` +
      `acknowledged writes ${r.acknowledgedWrites}, lost ${r.lost}, torn ${r.torn}, corruptions ${r.corruptionsDetected}/${r.corruptionsInjected}`);
    if (!r.ok) throw new Error(`${JSON.stringify(r.failures, null, 2)}\nreplay: ${r.replay}`);
    expect(r.kills).toBe(80);
    expect(r.totalsChecked).toBe(r.recoveries);
    expect(r.lost).toBe(0);
    expect(r.torn).toBe(0);
    expect(r.orderViolations).toBe(0);
    expect(r.recoveryFailures).toBe(0);
    expect(r.corruptionsDetected).toBe(r.corruptionsInjected);
    // The campaign exercised what it claims to.
    expect(r.acknowledgedWrites).toBeGreaterThan(500);
    expect(r.killsDuringRecovery).toBeGreaterThan(5);
    expect(r.killsAtStore).toBeGreaterThan(5);
    expect(r.recoveriesByWorkload).toBeGreaterThan(5);
    expect(r.recoveriesByCli).toBeGreaterThan(5);
  }, 240_000);
});
