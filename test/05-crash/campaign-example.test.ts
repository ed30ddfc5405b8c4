/**
 * The example event store (examples/event-store) under a real crash campaign:
 * a user workload, loaded from its path, appends events through the store and
 * announces each one with ctx.intend(); real processes, real SIGKILLs (timed,
 * and at chosen region stores), kills inside recovery, damaged dirty buffers.
 * The oracle must find every acknowledged event and no torn record; the
 * store's own check runs on every restart too. And the demo runs clean.
 * RIOCACHE_CRASH_SEED replays another seed.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCampaign } from '../../src/tools/crashtest/campaign';
import { repoRoot } from '../helpers';

const seed = Number(process.env.RIOCACHE_CRASH_SEED ?? 55005);
const example = join(repoRoot, 'examples', 'event-store');

describe('crash campaign: the event-store example', () => {
  it('loses no acknowledged event, tears none, detects every injected corruption', async () => {
    const r = await runCampaign({ workload: join(example, 'crash-workload.js'), kills: 40, seed, killDuringRecovery: 0.25, corrupt: 0.2 });
    console.log(`event-store: kills ${r.kills}, recoveries ${r.recoveries}, kills during recovery ${r.killsDuringRecovery}, ` +
      `acknowledged writes ${r.acknowledgedWrites}, lost ${r.lost}, torn ${r.torn}, corruptions ${r.corruptionsDetected}/${r.corruptionsInjected}`);
    if (!r.ok) throw new Error(`${JSON.stringify(r.failures, null, 2)}\nreplay: ${r.replay}`);
    expect(r.kills).toBe(40);
    expect(r.lost).toBe(0);
    expect(r.torn).toBe(0);
    expect(r.orderViolations).toBe(0);
    expect(r.recoveryFailures).toBe(0);
    expect(r.workloadFailures).toBe(0);
    expect(r.corruptionsDetected).toBe(r.corruptionsInjected);
    // The campaign exercised what it claims to: the oracle checked real events.
    expect(r.acknowledgedWrites).toBeGreaterThan(500);
    expect(r.bytesVerified).toBeGreaterThan(0);
    expect(r.recoveries).toBeGreaterThan(20);
    expect(r.killsAtStore).toBeGreaterThan(2);
    expect(r.recoveriesByWorkload).toBeGreaterThan(2);
    expect(r.recoveriesByCli).toBeGreaterThan(2);
  }, 240_000);

  it('the demo runs on defaults and finds every acknowledged event after its SIGKILL', () => {
    const res = spawnSync(process.execPath, [join(example, 'demo.js')], { encoding: 'utf8', timeout: 60_000 });
    if (res.status !== 0) throw new Error(`demo exited ${res.status} (signal ${res.signal})\n${res.stdout}\n${res.stderr}`);
    expect(res.stdout).toMatch(/recovery ran: true/);
    expect(res.stdout).toMatch(/all \d+ acknowledged events present, in order, intact/);
    expect(res.stdout.trim().endsWith('PASS')).toBe(true);
  }, 90_000);
});
