/**
 * The os target against a memory cgroup with a known limit: the page cache a
 * process in the cgroup can fill is bounded by the limit (less the memory of
 * the process itself), so the knee must land near it.
 *
 * Needs root and a writable cgroup v1 memory hierarchy; skips with its reason
 * elsewhere. Costs about 25 s here: writing a 768 MiB file (~3 s) and a sweep
 * whose samples each read up to 512 MiB from the disk.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { memoryCgroup } from '../../src/tools/probe/cgroup';
import { ensureProbeFile } from '../../src/tools/probe/osTarget';
import { repoRoot } from '../helpers';

const LIMIT_BYTES = 256 * 1024 * 1024;
const FILE_BYTES = 3 * LIMIT_BYTES;
const TOLERANCE = 0.2;
const TMPFS_MAGIC = 0x01021994;

/** Where a test cgroup can be made (under this process's own memory cgroup), or why not. */
function cgroupSupport(): { parent: string; reason?: undefined } | { reason: string } {
  if (process.platform !== 'linux') return { reason: 'memory cgroups are a Linux feature' };
  if (process.getuid?.() !== 0) return { reason: 'creating a memory cgroup needs root' };
  if (!fs.existsSync('/sys/fs/cgroup/memory/memory.limit_in_bytes')) return { reason: 'no cgroup v1 memory controller at /sys/fs/cgroup/memory' };
  const own = memoryCgroup();
  const parent = own?.version === 1 ? own.dir : '/sys/fs/cgroup/memory';
  const trial = join(parent, `riocache-probe-trial-${process.pid}`);
  try {
    fs.mkdirSync(trial);
    fs.rmdirSync(trial);
  } catch (err) {
    return { reason: `cannot create a cgroup under ${parent} (${(err as NodeJS.ErrnoException).code})` };
  }
  if (Number(fs.statfsSync(os.tmpdir()).type) === TMPFS_MAGIC) return { reason: `${os.tmpdir()} is tmpfs: the os target needs a disk` };
  const free = fs.statfsSync(os.tmpdir());
  if (free.bavail * free.bsize < 2 * FILE_BYTES) return { reason: `less than ${(2 * FILE_BYTES) >> 20} MiB free in ${os.tmpdir()}` };
  return { parent };
}

const support = cgroupSupport();
if (support.reason) console.log(`[06-probe] skipping the memory cgroup test: ${support.reason}`);

function runChild(cgroup: string, file: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const script = join(__dirname, 'os-probe-child.js');
  if (!fs.existsSync(join(repoRoot, 'dist/src/tools/probe/index.js'))) throw new Error('dist/ is missing: run `npm run build` first');
  // The shell joins the cgroup, then becomes node: every byte node allocates is charged there.
  const child = spawn('sh', ['-c', 'echo $$ > "$1/cgroup.procs" && exec "$2" "$3" "$4" "$5"', 'sh', cgroup, process.execPath, script, file,
    String(2 * LIMIT_BYTES)], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  return new Promise((done) => child.on('exit', (code) => done({ code, stdout, stderr })));
}

async function removeCgroup(dir: string): Promise<void> {
  for (let attempt = 0; attempt < 50; attempt++) {
    try {
      fs.rmdirSync(dir);
      return;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  fs.rmdirSync(dir);
}

describe('probe --target os in a memory cgroup', () => {
  it.skipIf(support.reason !== undefined)(`estimates a ${LIMIT_BYTES >> 20} MiB limit within ${TOLERANCE * 100}%`, async () => {
    const { parent } = support as { parent: string };
    const cgroup = join(parent, `riocache-probe-${process.pid}`);
    const file = join(os.tmpdir(), `riocache-probe-${process.pid}.dat`);
    fs.mkdirSync(cgroup);
    try {
      fs.writeFileSync(join(cgroup, 'memory.limit_in_bytes'), String(LIMIT_BYTES));
      ensureProbeFile(file, FILE_BYTES);
      const { code, stdout, stderr } = await runChild(cgroup, file);
      expect(code, stderr).toBe(0);
      const r = JSON.parse(stdout);
      // The child really ran under the limit.
      expect(r.cgroup?.limitBytes).toBe(LIMIT_BYTES);
      expect(r.found, r.reason ?? '').toBe(true);
      console.log(`[06-probe] cgroup limit ${LIMIT_BYTES >> 20} MiB: estimate ${(r.estimateBytes / 2 ** 20).toFixed(1)} MiB ` +
        `[${(r.lowBytes / 2 ** 20).toFixed(1)}, ${(r.highBytes / 2 ** 20).toFixed(1)}] (${(r.errorRatio * 100).toFixed(1)}%), ` +
        `anon ${((r.cgroup.anonBytes ?? 0) / 2 ** 20).toFixed(1)} MiB, ${(r.durationMs / 1000).toFixed(1)} s`);
      expect(Math.abs(r.estimateBytes / LIMIT_BYTES - 1)).toBeLessThan(TOLERANCE);
    } finally {
      fs.rmSync(file, { force: true });
      await removeCgroup(cgroup);
    }
  }, 180_000);
});
