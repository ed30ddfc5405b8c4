/**
 * A real crash campaign on the built-in 'pressure' workload (see ./campaign.ts
 * and src/tools/crashtest/workloads.ts): working sets from half the region to
 * eight times it, sync and promise calls with event-loop turns between them,
 * background write-back in flight, fsyncs and truncations. Besides the common
 * checks (nothing lost, torn or out of order), no call may fail: the workload
 * checks every read against its model and dies on any error, which counts as
 * a workload failure. RIOCACHE_CRASH_SEED replays another seed;
 * RIOCACHE_PRESSURE_KILLS runs a longer campaign (e.g. 2000).
 */
import { describe, it } from 'vitest';
import { campaignSeed, campaignTimeoutMs, runCheckedCampaign } from './campaign';

const kills = Number(process.env.RIOCACHE_PRESSURE_KILLS ?? 100);

describe('crash campaign: pressure', () => {
  it('loses no acknowledged write, tears none, and no call fails for lack of room', async () => {
    await runCheckedCampaign('pressure', {
      workload: 'pressure', kills, seed: campaignSeed(55005), killDuringRecovery: 0.2, corrupt: 0.1, runMs: [20, 300],
    }, {
      acknowledgedWrites: 2000, killsDuringRecovery: 3, killsAtStore: 5, recoveriesByWorkload: 5, recoveriesByCli: 5, corruptionsInjected: 2,
    });
  }, Math.max(campaignTimeoutMs, kills * 2_000));
});
