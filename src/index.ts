/**
 * riocache: a Rio-style persistent buffer cache for Node.js.
 *
 *   const cache = await openCache({ region: '/dev/shm/app.rio', root: '/var/lib/app' });
 *   const fd = cache.fs.openSync('events.log', 'a');
 *   cache.fs.writeSync(fd, 'hello\n');        // crash-safe when it returns
 *   await cache.close();
 */
export { openCache, openCacheSync, type CacheOptions } from './open';
export { Cache, type CacheStats, type FsyncMode } from './cache/cache';
export { CacheFs } from './fs/sync';
export { CachePromises, FileHandle } from './fs/promises';
export { RioError, RegionErrorCodes, type RegionErrorCode } from './errors';
export type { RecoveryReport, ListRepair } from './recovery/report';
export type { QuarantineRecord } from './recovery/quarantine';
export { probe, type ProbeOptions, type ProbeResult } from './tools/probe';
export { runCampaign, type CampaignOptions, type CampaignResult } from './tools/crashtest/campaign';
export type { IntendedChange, Workload, WorkloadContext } from './tools/crashtest/context';
export { inspectRegion, type InspectReport } from './tools/inspect/inspect';
