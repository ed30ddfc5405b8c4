// riocache's native addon: the few things JavaScript cannot do. Each concern
// has its own file (mapping, persist, crc32c, files); this one wires them up
// and holds the small checksum and flush entry points.
#include <node_api.h>
#include <string.h>
#include <unistd.h>

#include <cstring>
#include <memory>
#include <mutex>

#include "crc32c.h"
#include "fastcalls.h"
#include "files.h"
#include "instance.h"
#include "mapping.h"
#include "persist.h"
#include "reads.h"
#include "util.h"

namespace rio {

const char* errno_code(int err) {
  const char* name = strerrorname_np(err);
  return name ? name : "EIO";
}

namespace {

void finalize_instance(napi_env, void* data, void*) { delete static_cast<std::shared_ptr<Instance>*>(data); }

std::once_flag tables_once;

}  // namespace

const std::shared_ptr<Instance>& instance(napi_env env) {
  void* data = nullptr;
  napi_get_instance_data(env, &data);
  return *static_cast<std::shared_ptr<Instance>*>(data);
}

namespace {

uint32_t read_seed(Args<4>& a, size_t i, bool* ok) {
  uint32_t seed = 0;
  napi_valuetype t;
  napi_typeof(a.env, a[i], &t);
  *ok = t == napi_undefined || a.uint32(i, &seed, "seed");
  return seed;
}

// crc32c(view, offset, length, seed = 0) -> uint32
napi_value Crc32c(napi_env env, napi_callback_info info) {
  Args<4> a(env, info);
  unsigned char* p;
  size_t n;
  bool ok;
  if (!a.bytes(0, 1, 2, &p, &n, "view")) return nullptr;
  uint32_t seed = read_seed(a, 3, &ok);
  if (!ok) return nullptr;
  return uint32(env, crc32c_extend(seed, p, n));
}

napi_value Crc32cPortable(napi_env env, napi_callback_info info) {
  Args<4> a(env, info);
  unsigned char* p;
  size_t n;
  bool ok;
  if (!a.bytes(0, 1, 2, &p, &n, "view")) return nullptr;
  uint32_t seed = read_seed(a, 3, &ok);
  if (!ok) return nullptr;
  return uint32(env, crc32c_extend_portable(seed, p, n));
}

// crc32cCombine(crcA, crcB, lengthB) -> crc of A||B
napi_value Crc32cCombine(napi_env env, napi_callback_info info) {
  Args<3> a(env, info);
  uint32_t ca, cb;
  int64_t len;
  if (!a.uint32(0, &ca, "crcA") || !a.uint32(1, &cb, "crcB") || !a.int64(2, &len, "lengthB")) return nullptr;
  if (len < 0) return throw_range_error(env, "ERR_OUT_OF_RANGE", "\"lengthB\" must not be negative");
  return uint32(env, crc32c_combine(ca, cb, static_cast<uint64_t>(len)));
}

// copyCrc32c(src, srcOffset, dst, dstOffset, length, seed) -> crc32c of the
// copied bytes continued from seed. One call does the copy and the checksum
// while the bytes are still in the L1 cache. Overlapping ranges are allowed.
napi_value CopyCrc32c(napi_env env, napi_callback_info info) {
  Args<6> a(env, info);
  unsigned char *src, *dst;
  size_t n_src, n_dst;
  uint32_t seed;
  if (!a.bytes(0, 1, 4, &src, &n_src, "src") || !a.bytes(2, 3, 4, &dst, &n_dst, "dst") ||
      !a.uint32(5, &seed, "seed")) {
    return nullptr;
  }
  std::memmove(dst, src, n_src);
  return uint32(env, crc32c_extend(seed, dst, n_dst));
}

// crc32cPatch(crc, old, new, offset, length, tail): the checksum after
// old[offset, offset+length) became new[offset, offset+length) (tests).
napi_value Crc32cPatch(napi_env env, napi_callback_info info) {
  Args<6> a(env, info);
  uint32_t crc;
  unsigned char *was, *now;
  size_t n1, n2;
  int64_t tail;
  if (!a.uint32(0, &crc, "crc") || !a.bytes(1, 3, 4, &was, &n1, "old") || !a.bytes(2, 3, 4, &now, &n2, "new") ||
      !a.int64(5, &tail, "tail")) {
    return nullptr;
  }
  return uint32(env, crc32c_patch(crc, was, now, n1, static_cast<uint64_t>(tail)));
}

// flush(view, offset, length): cache-line write-back without a fence.
napi_value Flush(napi_env env, napi_callback_info info) {
  Args<3> a(env, info);
  unsigned char* p;
  size_t n;
  if (!a.bytes(0, 1, 2, &p, &n, "view")) return nullptr;
  flush_nodrain(p, n);
  return nullptr;
}

napi_value Fence(napi_env, napi_callback_info) {
  fence();
  return nullptr;
}

// persist(view, offset, length) = flush + fence.
napi_value Persist(napi_env env, napi_callback_info info) {
  Args<3> a(env, info);
  unsigned char* p;
  size_t n;
  if (!a.bytes(0, 1, 2, &p, &n, "view")) return nullptr;
  flush_nodrain(p, n);
  fence();
  return nullptr;
}

// info() -> which implementations were chosen at load.
napi_value Info(napi_env env, napi_callback_info) {
  napi_value o;
  napi_create_object(env, &o);
  napi_set_named_property(env, o, "crc32c", string(env, crc32c_implementation()));
  napi_set_named_property(env, o, "crc32cAvailable", string(env, crc32c_available()));
  napi_set_named_property(env, o, "flush", string(env, flush_instruction_name()));
  napi_set_named_property(env, o, "flushForced", boolean(env, flush_instruction_forced()));
  napi_set_named_property(env, o, "pageSize", number(env, static_cast<double>(sysconf(_SC_PAGESIZE))));
  return o;
}

napi_value Init(napi_env env, napi_value exports) {
  // Worker threads load the addon again; the tables are process-wide.
  std::call_once(tables_once, [] {
    crc32c_init();
    persist_init();
  });
  napi_set_instance_data(env, new std::shared_ptr<Instance>(std::make_shared<Instance>()), finalize_instance,
                         nullptr);
  if (define_functions(env, exports,
                       {{"crc32c", Crc32c},
                        {"crc32cPortable", Crc32cPortable},
                        {"crc32cCombine", Crc32cCombine},
                        {"copyCrc32c", CopyCrc32c},
                        {"crc32cPatch", Crc32cPatch},
                        {"flush", Flush},
                        {"fence", Fence},
                        {"persist", Persist},
                        {"info", Info}}) != napi_ok ||
      mapping_register(env, exports) != napi_ok || files_register(env, exports) != napi_ok ||
      fastcalls_register(env, exports) != napi_ok || reads_register(env, exports) != napi_ok) {
    throw_error(env, "ERR_NATIVE", "riocache: failed to register native functions");
    return nullptr;
  }
  return exports;
}

}  // namespace
}  // namespace rio

NAPI_MODULE_INIT() { return rio::Init(env, exports); }
