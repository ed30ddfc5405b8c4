/** The cache-size probe as a library: `probe(options, onProgress)` and its report helpers. */
export { probe, type ProbeResult, type ProbePoint, type ProbeProgress } from './probe';
export type { ProbeOptions } from './options';
export { estimateKnee, type KneeEstimate, type KneeInput, type KneeOptions, type ClassifiedPoint } from './knee';
export { formatReport, formatSummary, formatTable, formatChart, renderSvg, chartSpec } from './report';
export { ensureProbeFile } from './osTarget';
export { memoryCgroup, type MemoryCgroup } from './cgroup';
