/** The table of trials, in the order they run and are reported. */
import { append100 } from './append100';
import { mix7030 } from './mix7030';
import { overwrite4k, overwrite4kHot } from './overwrite4k';
import { readHit4k, readHit4kHot } from './readHit4k';
import { readMiss4k } from './readMiss4k';
import { sequential, sequential64k } from './sequential';
import { writeMiss4k } from './writeMiss4k';
import type { TrialDef } from './types';

/** Whole programs on plain fs and under riocache/register: their own runner, bench/register.ts. */
export { registerTrials } from './register';

export const trials: TrialDef[] = [overwrite4k, overwrite4kHot, append100, readHit4k, readHit4kHot, readMiss4k, writeMiss4k, mix7030, sequential, sequential64k];

export function trialById(id: string): TrialDef {
  const t = trials.find((x) => x.id === id);
  if (!t) throw new Error(`no trial "${id}" (known: ${trials.map((x) => x.id).join(', ')})`);
  return t;
}
