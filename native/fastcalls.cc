// Scratch-block ABI (Float64 slots; all offsets and lengths in bytes):
//   crcAt:      [0]=view id [1]=offset [2]=length [3]=seed       -> [7]=crc
//   patchAt:    [0]=new view [1]=new offset [2]=length [3]=old view [4]=old offset
//               [5]=tail bytes [6]=old crc                       -> [7]=crc
//   moveAt:     [0]=dst view [1]=dst offset [2]=src view [3]=src offset [4]=length
//   fillAt:     [0]=view id [1]=offset [2]=length [3]=byte value
//   flushAt:    [0]=view id [1]=offset [2]=length                (no fence)
//   persistAt:  [0]=view id [1]=offset [2]=length                (flush + fence)
//   copyInCrcAt(src): [0]=dst view [1]=dst offset [2]=length [3]=seed [4]=src offset
//               copies src[srcOffset, +length) into the view and returns in
//               [7] the crc32c of the copied bytes continued from seed: the
//               one argument is the caller's buffer (a TypedArray), the rest
//               come through the scratch block.
//   copyInCrcMany(src, jobs: Float64Array, count): copyInCrcAt for `count`
//               jobs of five slots [dst view, dst offset, length, seed, src
//               offset], the crc replacing the seed; every range is checked
//               before any byte is copied.
//   verifyAt(jobs: Uint32Array, count) -> number of mismatches: each job is
//               six words [view id, offset, length, seed, expected crc, actual
//               crc (out)]; every range is checked before any is read.
// A bad id or a range outside its view throws ERR_OUT_OF_RANGE; nothing is
// touched. A view whose mapping was unmapped has length 0, so every access to
// it fails instead of reaching freed memory.
#include "fastcalls.h"

#include <cstdint>
#include <cstring>

#include "crc32c.h"
#include "instance.h"
#include "persist.h"
#include "scratch_args.h"
#include "util.h"

namespace rio {
namespace {

napi_value CrcAt(napi_env env, napi_callback_info) {
  Instance* in = instance(env).get();
  double* s = in->scratch;
  unsigned char* p;
  if (!range(env, in, s[0], s[1], s[2], &p)) return nullptr;
  s[7] = crc32c_extend(static_cast<uint32_t>(s[3]), p, static_cast<size_t>(s[2]));
  return nullptr;
}

napi_value PatchAt(napi_env env, napi_callback_info) {
  Instance* in = instance(env).get();
  double* s = in->scratch;
  unsigned char *now, *was;
  if (!range(env, in, s[0], s[1], s[2], &now) || !range(env, in, s[3], s[4], s[2], &was)) return nullptr;
  s[7] = crc32c_patch(static_cast<uint32_t>(s[6]), was, now, static_cast<size_t>(s[2]), static_cast<uint64_t>(s[5]));
  return nullptr;
}

napi_value MoveAt(napi_env env, napi_callback_info) {
  Instance* in = instance(env).get();
  double* s = in->scratch;
  unsigned char *dst, *src;
  if (!range(env, in, s[0], s[1], s[4], &dst) || !range(env, in, s[2], s[3], s[4], &src)) return nullptr;
  std::memmove(dst, src, static_cast<size_t>(s[4]));
  return nullptr;
}

napi_value FillAt(napi_env env, napi_callback_info) {
  Instance* in = instance(env).get();
  double* s = in->scratch;
  unsigned char* p;
  if (!range(env, in, s[0], s[1], s[2], &p)) return nullptr;
  std::memset(p, static_cast<int>(s[3]) & 0xff, static_cast<size_t>(s[2]));
  return nullptr;
}

napi_value FlushAt(napi_env env, napi_callback_info) {
  Instance* in = instance(env).get();
  double* s = in->scratch;
  unsigned char* p;
  if (!range(env, in, s[0], s[1], s[2], &p)) return nullptr;
  flush_nodrain(p, static_cast<size_t>(s[2]));
  return nullptr;
}

napi_value PersistAt(napi_env env, napi_callback_info) {
  Instance* in = instance(env).get();
  double* s = in->scratch;
  unsigned char* p;
  if (!range(env, in, s[0], s[1], s[2], &p)) return nullptr;
  flush_nodrain(p, static_cast<size_t>(s[2]));
  fence();
  return nullptr;
}

constexpr size_t kCopyJobSlots = 5;

// The copies and checksums of `count` jobs [dst view, dst offset, length,
// seed (the crc out), src offset]; every range is checked before any byte is
// copied. Each job's source is checksummed first, then copied: the checksum
// leaves the bytes in the L1 cache for the copy (a job is at most a block),
// where checksumming the copy after it took half as long again (16 jobs of
// 4 KiB into a 64 MiB region: 3.0 against 4.6 µs with AVX-512, 5.4 against
// 6.6 µs with the pclmul path, on the development machine). It is the same
// checksum: memmove copies what the checksum read, overlapping or not.
bool copy_in_crc(napi_env env, Instance* in, const unsigned char* src, size_t src_bytes, double* jobs, size_t count) {
  for (size_t j = 0; j < count; j++) {
    const double* w = jobs + j * kCopyJobSlots;
    unsigned char* p;
    if (!(w[4] >= 0) || !(w[2] >= 0) || w[4] + w[2] > static_cast<double>(src_bytes)) {
      throw_range_error(env, "ERR_OUT_OF_RANGE", "range outside \"src\"");
      return false;
    }
    if (!range(env, in, w[0], w[1], w[2], &p)) return false;
  }
  for (size_t j = 0; j < count; j++) {
    double* w = jobs + j * kCopyJobSlots;
    unsigned char* dst = in->views[static_cast<size_t>(w[0])].base + static_cast<size_t>(w[1]);
    const size_t n = static_cast<size_t>(w[2]);
    const unsigned char* from = src + static_cast<size_t>(w[4]);
    w[3] = crc32c_extend(static_cast<uint32_t>(w[3]), from, n);
    std::memmove(dst, from, n);
  }
  return true;
}

napi_value CopyInCrcAt(napi_env env, napi_callback_info info) {
  Instance* in = instance(env).get();
  double* s = in->scratch;
  void* data = nullptr;
  size_t elements = 0;
  if (!bytes_only_arg(env, info, "\"src\" must be a byte array", &data, &elements)) return nullptr;
  double job[kCopyJobSlots] = {s[0], s[1], s[2], s[3], s[4]};
  if (copy_in_crc(env, in, static_cast<const unsigned char*>(data), elements, job, 1)) s[7] = job[3];
  return nullptr;
}

// A write of many blocks into fresh buffers in one call: one Node-API
// crossing and one argument check instead of one per block.
napi_value CopyInCrcMany(napi_env env, napi_callback_info info) {
  Instance* in = instance(env).get();
  size_t argc = 3;
  napi_value argv[3];
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  void* src = nullptr;
  void* jobs = nullptr;
  size_t src_bytes = 0, count = 0;
  if (!typed_arg(env, argc, argv, 0, is_bytes, "\"src\" must be a byte array", &src, &src_bytes) ||
      !jobs_args(env, argc, argv, 1, [](napi_typedarray_type t) { return t == napi_float64_array; },
                 "\"jobs\" must be a Float64Array", kCopyJobSlots, &jobs, &count)) {
    return nullptr;
  }
  copy_in_crc(env, in, static_cast<const unsigned char*>(src), src_bytes, static_cast<double*>(jobs), count);
  return nullptr;
}

constexpr size_t kVerifyJobWords = 6;

// The warm reboot's checksum pass over a file's dirty buffers in one call:
// one Node-API crossing per file instead of one per block. Every range is
// checked before any is read, so a bad job throws with no result written.
// No software prefetch: the jobs come in block order, mostly adjacent in the
// region, and the hardware prefetcher follows them; prefetching the next
// block by hand measured slower (and MADV_POPULATE_READ over each run saved
// no page-fault time), see docs/performance.md.
napi_value VerifyAt(napi_env env, napi_callback_info info) {
  Instance* in = instance(env).get();
  size_t argc = 2;
  napi_value argv[2];
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  void* data = nullptr;
  size_t count = 0;
  if (!jobs_args(env, argc, argv, 0, [](napi_typedarray_type t) { return t == napi_uint32_array; },
                 "\"jobs\" must be a Uint32Array", kVerifyJobWords, &data, &count)) {
    return nullptr;
  }
  uint32_t* jobs = static_cast<uint32_t*>(data);
  for (size_t j = 0; j < count; j++) {
    const uint32_t* w = jobs + j * kVerifyJobWords;
    unsigned char* p;
    if (!range(env, in, w[0], w[1], w[2], &p)) return nullptr;
  }
  uint32_t mismatches = 0;
  for (size_t j = 0; j < count; j++) {
    uint32_t* w = jobs + j * kVerifyJobWords;
    const uint32_t actual = crc32c_extend(w[3], in->views[w[0]].base + w[1], w[2]);
    w[5] = actual;
    if (actual != w[4]) mismatches++;
  }
  return uint32(env, mismatches);
}

void finalize_nothing(napi_env, void*, void*) {}

}  // namespace

napi_status fastcalls_register(napi_env env, napi_value exports) {
  napi_status s = define_functions(env, exports,
                                   {{"crcAt", CrcAt},
                                    {"patchAt", PatchAt},
                                    {"moveAt", MoveAt},
                                    {"fillAt", FillAt},
                                    {"flushAt", FlushAt},
                                    {"persistAt", PersistAt},
                                    {"copyInCrcAt", CopyInCrcAt},
                                    {"copyInCrcMany", CopyInCrcMany},
                                    {"verifyAt", VerifyAt}});
  if (s != napi_ok) return s;
  // The scratch block lives as long as the Instance (the environment), so the
  // ArrayBuffer over it needs no finalizer of its own.
  napi_value scratch;
  s = napi_create_external_arraybuffer(env, instance(env)->scratch, sizeof(double) * kScratchSlots,
                                       finalize_nothing, nullptr, &scratch);
  if (s != napi_ok) return s;
  return napi_set_named_property(env, exports, "scratch", scratch);
}

}  // namespace rio
