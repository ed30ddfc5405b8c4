/** A real crash campaign on the built-in 'append' workload (see ./campaign.ts). RIOCACHE_CRASH_SEED replays another seed. */
import { describeBuiltinCampaign } from './campaign';

describeBuiltinCampaign('append', 11001);
