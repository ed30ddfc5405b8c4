/** A real crash campaign on the built-in 'mixed' workload (see ./campaign.ts). RIOCACHE_CRASH_SEED replays another seed. */
import { describeBuiltinCampaign } from './campaign';

describeBuiltinCampaign('mixed', 33003);
