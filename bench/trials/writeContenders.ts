/**
 * The contenders of every write trial (overwrite and append): riocache's two
 * APIs and fsync modes, fs, lmdb, and the two memory bounds, in one list so
 * the trials compare the same set.
 */
import { lmdb } from '../contenders/lmdb';
import { mapOfBuffers, mappedFloor } from '../contenders/memory';
import { nodeFs } from '../contenders/nodefs';
import { riocache } from '../contenders/riocache';
import type { ContenderDef } from '../contenders/types';

export const writeContenders: ContenderDef[] = [
  riocache('rio.sync', 'riocache cache.fs.writeSync', { api: 'sync' }),
  riocache('rio.promise', 'riocache FileHandle.write', { api: 'promise' }),
  riocache('rio.sync+fdatasync(rio)', "riocache writeSync + fdatasyncSync (fsync: 'rio')", { api: 'sync', fsync: 'rio', datasync: true }),
  riocache('rio.sync+fdatasync(disk)', "riocache writeSync + fdatasyncSync (fsync: 'disk')", { api: 'sync', fsync: 'disk', datasync: true }),
  nodeFs('fs.sync', 'fs.writeSync', { api: 'sync' }),
  nodeFs('fs.sync+fdatasync', 'fs.writeSync + fs.fdatasyncSync', { api: 'sync', datasync: true }),
  nodeFs('fs.promise', 'fs.promises FileHandle.write', { api: 'promise' }),
  lmdb('lmdb.putSync', 'lmdb putSync (default options)', { api: 'sync', flavour: 'default' }),
  lmdb('lmdb.putSync(nosync)', 'lmdb putSync (noSync, useWritemap)', { api: 'sync', flavour: 'nosync' }),
  lmdb('lmdb.put', 'lmdb await put (default options)', { api: 'async', flavour: 'default' }),
  lmdb('lmdb.put(nosync)', 'lmdb await put (noSync, useWritemap)', { api: 'async', flavour: 'nosync' }),
  mapOfBuffers('map', 'Map of Buffers (volatile)'),
  mappedFloor('floor', 'TypedArray.set into a mapped region (floor)'),
  mappedFloor('floor+crc', 'TypedArray.set into a mapped region + crc32c of the bytes (floor of a checksummed write)', true),
];
