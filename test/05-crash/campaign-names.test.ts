/**
 * A real crash campaign on the built-in 'names' workload (see ./campaign.ts):
 * directories holding files with dirty data renamed and removed whole (rm -r,
 * bracketed by the remove-tree intent), copies from dirty files to files the
 * cache holds, truncation by path; kills at random instants, at region
 * stores and inside recovery, with damaged dirty buffers now and then.
 * RIOCACHE_CRASH_SEED replays another seed.
 */
import { describe, it } from 'vitest';
import { campaignSeed, campaignTimeoutMs, runCheckedCampaign } from './campaign';

describe('crash campaign: names', () => {
  it('loses no acknowledged write, tears none, across renames and removals of directories, copies and truncation by path', async () => {
    await runCheckedCampaign('names', { workload: 'names', kills: 50, seed: campaignSeed(55005), killDuringRecovery: 0.2, corrupt: 0.2 }, {
      acknowledgedWrites: 300, killsDuringRecovery: 3, killsAtStore: 3, recoveriesByWorkload: 3, recoveriesByCli: 3, corruptionsInjected: 3,
    });
  }, campaignTimeoutMs);
});
