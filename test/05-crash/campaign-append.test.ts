/**
 * A real crash campaign on the built-in 'append' workload: real processes, real
 * SIGKILLs (timed, and at chosen region stores), kills inside recovery,
 * damaged dirty buffers. With the other two workloads' files: more than 300
 * kills in every CI run. RIOCACHE_CRASH_SEED replays another seed.
 */
import { describe, expect, it } from 'vitest';
import { runCampaign } from '../../src/tools/crashtest/campaign';

const seed = Number(process.env.RIOCACHE_CRASH_SEED ?? 11001);

describe('crash campaign: append', () => {
  it('loses no acknowledged write, tears none, detects every injected corruption', async () => {
    const r = await runCampaign({ workload: 'append', kills: 110, seed, killDuringRecovery: 0.25, corrupt: 0.25 });
    console.log(`append: kills ${r.kills}, recoveries ${r.recoveries}, kills during recovery ${r.killsDuringRecovery}, ` +
      `acknowledged writes ${r.acknowledgedWrites}, lost ${r.lost}, torn ${r.torn}, corruptions ${r.corruptionsDetected}/${r.corruptionsInjected}`);
    if (!r.ok) throw new Error(`${JSON.stringify(r.failures, null, 2)}\nreplay: ${r.replay}`);
    expect(r.kills).toBe(110);
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
    expect(r.corruptionsInjected).toBeGreaterThan(5);
  }, 240_000);
});
