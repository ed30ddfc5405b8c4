/**
 * A real crash campaign on the built-in 'transfer' workload (see ./campaign.ts),
 * without damaged buffers (a quarantined block breaks the totals by design):
 * after every recovery the accounts must still sum to the opening total.
 * RIOCACHE_CRASH_SEED replays another seed.
 */
import { describe, expect, it } from 'vitest';
import { campaignSeed, campaignTimeoutMs, runCheckedCampaign } from './campaign';

describe('crash campaign: transfer', () => {
  it('keeps every total, loses no acknowledged transfer, tears none', async () => {
    const r = await runCheckedCampaign('transfer', { workload: 'transfer', kills: 80, seed: campaignSeed(44004), killDuringRecovery: 0.25, corrupt: 0 }, {
      acknowledgedWrites: 500, killsDuringRecovery: 5, killsAtStore: 5, recoveriesByWorkload: 5, recoveriesByCli: 5,
    });
    expect(r.totalsChecked).toBe(r.recoveries);
  }, campaignTimeoutMs);
});
