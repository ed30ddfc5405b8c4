/**
 * Is this argument a path beneath the root? The question every patched call
 * asks first, so it is cheap for the common case of a path elsewhere: an
 * absolute path that does not start with the root and has no `.`/`//` part
 * to normalise is answered by one comparison.
 */
import { isAbsolute, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isNormal } from '../cache/paths';

const SLASH = 0x2f;
/** An absolute path with nothing that normalising could change (after its leading slash): one pass, as confine's. */
const isPlain = (p: string) => isNormal(p, 1);

export class Beneath {
  private readonly prefix: string;

  constructor(readonly root: string) {
    this.prefix = root.endsWith('/') ? root : `${root}/`;
  }

  /** `p` names the root itself, with or without its trailing slash. */
  private isRoot(p: string): boolean {
    return p === this.root || (p.length === this.prefix.length - 1 && this.prefix.startsWith(p));
  }

  /** The absolute path when `value` names the root or a path beneath it, else null. Never throws. */
  path(value: unknown): string | null {
    let p: string;
    if (typeof value === 'string') p = value;
    else if (value instanceof URL) {
      if (value.protocol !== 'file:') return null;
      try {
        p = fileURLToPath(value);
      } catch {
        return null;
      }
    } else if (Buffer.isBuffer(value)) p = value.toString('utf8');
    else return null;
    // The common case first: an absolute path elsewhere, with nothing to normalise that could lead it back in.
    // (A NUL byte is fs's own argument error: the real fs raises it.)
    if (p.charCodeAt(0) === SLASH && !p.startsWith(this.prefix) && !this.isRoot(p) && isPlain(p)) return null;
    if (p.length === 0 || p.includes('\0')) return null;
    if (isAbsolute(p) && isPlain(p)) return p.startsWith(this.prefix) || this.isRoot(p) ? p : null;
    const abs = resolve(p);
    return abs.startsWith(this.prefix) || abs === this.root ? abs : null;
  }
}
