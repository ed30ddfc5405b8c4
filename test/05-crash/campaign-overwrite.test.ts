/** A real crash campaign on the built-in 'overwrite' workload (see ./campaign.ts). RIOCACHE_CRASH_SEED replays another seed. */
import { describeBuiltinCampaign } from './campaign';

describeBuiltinCampaign('overwrite', 22002);
