/**
 * The example event store (examples/event-store) under a real crash campaign
 * (see ./campaign.ts): a user workload, loaded from its path, appends events
 * through the store and announces each one with ctx.intend(). The oracle must
 * find every acknowledged event and no torn record; the store's own check runs
 * on every restart too. And the demo runs clean.
 * RIOCACHE_CRASH_SEED replays another seed.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../helpers';
import { campaignSeed, campaignTimeoutMs, runCheckedCampaign } from './campaign';

const example = join(repoRoot, 'examples', 'event-store');

describe('crash campaign: the event-store example', () => {
  it('loses no acknowledged event, tears none, detects every injected corruption', async () => {
    const workload = join(example, 'crash-workload.js');
    // The oracle checked real events, over restarts of both kinds.
    await runCheckedCampaign('event-store', { workload, kills: 40, seed: campaignSeed(55005), killDuringRecovery: 0.25, corrupt: 0.2 }, {
      acknowledgedWrites: 500, bytesVerified: 0, recoveries: 20, killsAtStore: 2, recoveriesByWorkload: 2, recoveriesByCli: 2,
    });
  }, campaignTimeoutMs);

  it('the demo runs on defaults and finds every acknowledged event after its SIGKILL', () => {
    const res = spawnSync(process.execPath, [join(example, 'demo.js')], { encoding: 'utf8', timeout: 60_000 });
    if (res.status !== 0) throw new Error(`demo exited ${res.status} (signal ${res.signal})\n${res.stdout}\n${res.stderr}`);
    expect(res.stdout).toMatch(/recovery ran: true/);
    expect(res.stdout).toMatch(/all \d+ acknowledged events present, in order, intact/);
    expect(res.stdout.trim().endsWith('PASS')).toBe(true);
  }, 90_000);
});
