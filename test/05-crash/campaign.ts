/**
 * What the crash-campaign files share: one real campaign (real processes, real
 * SIGKILLs, timed and at chosen region stores, kills inside recovery, damaged
 * dirty buffers), its figures printed, and the checks every campaign must pass.
 * Each campaign-*.test.ts runs one campaign, so vitest runs them in parallel;
 * together the built-in workloads' files make more than 300 kills in every CI
 * run. RIOCACHE_CRASH_SEED replays another seed; every failure prints the
 * replay command.
 */
import { describe, expect, it } from 'vitest';
import { runCampaign, type CampaignOptions, type CampaignResult } from '../../src/tools/crashtest/campaign';

export const campaignTimeoutMs = 240_000;

/** The names of a result's counts. */
type Count = { [K in keyof CampaignResult]: CampaignResult[K] extends number ? K : never }[keyof CampaignResult];

/** Counts that no campaign may have above zero. */
const mustBeZero: Count[] = ['lost', 'torn', 'orderViolations', 'recoveryFailures', 'workloadFailures'];

/**
 * Lower bounds, exclusive: the campaign exercised what it claims to (a short
 * run that killed nothing at a store would pass every other check).
 */
export type Floors = Partial<Record<Count, number>>;

/** RIOCACHE_CRASH_SEED when set, else the file's own seed. */
export function campaignSeed(fileDefault: number): number {
  return Number(process.env.RIOCACHE_CRASH_SEED ?? fileDefault);
}

/**
 * Runs one campaign and holds it to the common checks: every kill made,
 * nothing lost or torn or out of order, every recovery and workload run clean,
 * every injected corruption detected, and each count in `floors` above its
 * bound. Returns the result for the file's own checks.
 */
export async function runCheckedCampaign(
  label: string,
  options: Partial<CampaignOptions> & Pick<CampaignOptions, 'workload' | 'kills' | 'seed'>,
  floors: Floors,
): Promise<CampaignResult> {
  const r = await runCampaign(options);
  console.log(`${label}: kills ${r.kills}, recoveries ${r.recoveries}, kills during recovery ${r.killsDuringRecovery}, ` +
    `acknowledged writes ${r.acknowledgedWrites}, lost ${r.lost}, torn ${r.torn}, corruptions ${r.corruptionsDetected}/${r.corruptionsInjected}`);
  if (!r.ok) throw new Error(`${JSON.stringify(r.failures, null, 2)}\nreplay: ${r.replay}`);
  const why = (what: string) => `${label}: ${what} (replay: ${r.replay})`;
  expect(r.kills, why('kills')).toBe(options.kills);
  for (const count of mustBeZero) expect(r[count], why(count)).toBe(0);
  expect(r.corruptionsDetected, why('corruptionsDetected')).toBe(r.corruptionsInjected);
  for (const [count, floor] of Object.entries(floors) as Array<[Count, number]>) {
    expect(r[count], why(count)).toBeGreaterThan(floor);
  }
  return r;
}

/**
 * The campaign of a built-in workload that takes damaged buffers (append,
 * overwrite, mixed): 110 kills, a quarter of the recoveries killed, a quarter
 * of the restarts with a damaged dirty buffer.
 */
export function describeBuiltinCampaign(workload: 'append' | 'overwrite' | 'mixed', seedDefault: number): void {
  describe(`crash campaign: ${workload}`, () => {
    it('loses no acknowledged write, tears none, detects every injected corruption', async () => {
      await runCheckedCampaign(workload, { workload, kills: 110, seed: campaignSeed(seedDefault), killDuringRecovery: 0.25, corrupt: 0.25 }, {
        acknowledgedWrites: 500, killsDuringRecovery: 5, killsAtStore: 5, recoveriesByWorkload: 5, recoveriesByCli: 5, corruptionsInjected: 5,
      });
    }, campaignTimeoutMs);
  });
}
