/**
 * Which arguments of each node:fs call decide where it goes. One table for
 * the three faces: `name` is the callback form, `nameSync` the synchronous
 * one, `fs.promises.name` the promise one (where they exist).
 *
 *   fd         the first argument is a descriptor
 *   pathOrFd   a path, a descriptor or (promises) a FileHandle
 *   path       the first argument is a path
 *   twoPaths   both of the first two are paths (a call across the root's edge is decided in cross.ts)
 *   second     the path is the second argument (symlink's first is the link's text, not a path)
 *
 * Calls not listed (watch, watchFile, unwatchFile, openAsBlob, the stream
 * constructors, the classes) are never patched: the streams open, write and
 * close through the patched module functions; the others are documented as
 * outside the cache (docs/register.md).
 */
export type CallShape = 'fd' | 'pathOrFd' | 'path' | 'twoPaths' | 'second';

export const CALLS: Readonly<Record<string, CallShape>> = {
  close: 'fd', read: 'fd', readv: 'fd', write: 'fd', writev: 'fd', fstat: 'fd', fsync: 'fd', fdatasync: 'fd',
  ftruncate: 'fd', fchmod: 'fd', fchown: 'fd', futimes: 'fd',
  readFile: 'pathOrFd', writeFile: 'pathOrFd', appendFile: 'pathOrFd', truncate: 'pathOrFd',
  open: 'path', stat: 'path', lstat: 'path', access: 'path', exists: 'path', realpath: 'path', readlink: 'path',
  unlink: 'path', rmdir: 'path', rm: 'path', mkdir: 'path', readdir: 'path', opendir: 'path', chmod: 'path',
  lchmod: 'path', chown: 'path', lchown: 'path', utimes: 'path', lutimes: 'path', statfs: 'path', mkdtemp: 'path',
  rename: 'twoPaths', copyFile: 'twoPaths', link: 'twoPaths', cp: 'twoPaths',
  symlink: 'second',
};
