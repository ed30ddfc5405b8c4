/**
 * What the kernel does to a process that dies: its mappings go, its
 * descriptors close (dropping every lock), and nothing else runs. Used by
 * in-process crash simulations after a tracer stopped an operation.
 */
import * as fs from 'node:fs';
import type { Cache } from '../../src';

export function abandon(cache: Cache): void {
  const c = cache as unknown as {
    engine: { writeBack: { stop(): void }; files: Array<{ fd: number } | undefined> };
    region: { close(): void };
    rootFd: number;
    handles: { descriptors: Map<number, { kind: string; fd?: number }> };
  };
  c.engine.writeBack.stop();
  for (const f of c.engine.files) if (f && f.fd >= 0) fs.closeSync(f.fd);
  for (const d of c.handles.descriptors.values()) if (d.kind === 'directory' && d.fd !== undefined) fs.closeSync(d.fd);
  c.region.close();
  fs.closeSync(c.rootFd);
}
