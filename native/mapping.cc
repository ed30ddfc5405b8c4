// Lifetime. One Mapping is shared by the handle object and by every external
// ArrayBuffer over it; each holds one count. The memory is unmapped by an
// explicit unmap() or, if the program never calls it, when the last holder is
// collected. unmap() detaches every ArrayBuffer first, so JavaScript views read
// as empty afterwards and no view can reach the freed pages; the `unmapped`
// flag makes a second unmap() and the later finalizers harmless. A populate()
// in flight on the thread pool holds a count too, and unmap() waits for one
// that is running, so it never advises pages that are gone.
#include "mapping.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <vector>

#include "instance.h"
#include "util.h"

namespace rio {
namespace {

struct Mapping {
  void* address = nullptr;
  size_t length = 0;
  bool unmapped = false;
  int holders = 0;                 // handle + live ArrayBuffers
  std::vector<napi_ref> views;     // strong while mapped: unmap() must reach them
  std::vector<size_t> view_ids;    // entries in the Instance view table
  std::shared_ptr<Instance> owner;
  // populate() on the thread pool: unmap() sets `closing` and waits until none is running.
  std::mutex lock;
  std::condition_variable idle;
  int populating = 0;
  bool closing = false;
};

void stop_populating(Mapping* m) {
  std::unique_lock<std::mutex> hold(m->lock);
  m->closing = true;
  m->idle.wait(hold, [m] { return m->populating == 0; });
}

// Makes every registered view of m unusable by the fast calls.
void retire_view_ids(Mapping* m) {
  for (size_t id : m->view_ids) m->owner->views[id] = View{};
  m->view_ids.clear();
}

void release(Mapping* m) {
  if (--m->holders > 0) return;
  if (!m->unmapped && m->address) {
    retire_view_ids(m);
    stop_populating(m);
    munmap(m->address, m->length);
  }
  delete m;
}

void finalize_view(napi_env, void*, void* hint) { release(static_cast<Mapping*>(hint)); }

void finalize_handle(napi_env env, void* data, void*) {
  auto* m = static_cast<Mapping*>(data);
  for (napi_ref ref : m->views) napi_delete_reference(env, ref);
  m->views.clear();
  release(m);
}

Mapping* unwrap_mapping(napi_env env, napi_value handle) {
  void* data = nullptr;
  if (napi_unwrap(env, handle, &data) != napi_ok || !data) {
    throw_type_error(env, "ERR_INVALID_HANDLE", "expected a region mapping handle");
    return nullptr;
  }
  return static_cast<Mapping*>(data);
}

// map(fd, length, ranges: [[offset, length], ...], populate) -> { handle, views }
napi_value Map(napi_env env, napi_callback_info info) {
  Args<4> a(env, info);
  int64_t fd, length;
  bool populate;
  if (!a.int64(0, &fd, "fd") || !a.int64(1, &length, "length") || !a.boolean(3, &populate, "populate")) {
    return nullptr;
  }
  if (length <= 0) return throw_range_error(env, "ERR_OUT_OF_RANGE", "length must be positive");
  uint32_t range_count = 0;
  if (!a.array_length(2, &range_count, "ranges")) return nullptr;

  std::vector<std::pair<int64_t, int64_t>> ranges(range_count);
  for (uint32_t i = 0; i < range_count; i++) {
    napi_value pair, v0, v1;
    napi_get_element(env, a[2], i, &pair);
    napi_get_element(env, pair, 0, &v0);
    napi_get_element(env, pair, 1, &v1);
    if (napi_get_value_int64(env, v0, &ranges[i].first) != napi_ok ||
        napi_get_value_int64(env, v1, &ranges[i].second) != napi_ok) {
      return throw_type_error(env, "ERR_INVALID_ARG_TYPE", "ranges must be [offset, length] pairs");
    }
    const int64_t off = ranges[i].first, len = ranges[i].second;
    if (off < 0 || len < 0 || off + len > length || len > (int64_t(1) << 32)) {
      return throw_range_error(env, "ERR_OUT_OF_RANGE", "a view range lies outside the mapping or exceeds 4 GiB");
    }
  }

  struct stat st;
  if (fstat(static_cast<int>(fd), &st) != 0) return throw_errno(env, errno, "fstat");
  if (st.st_size < length) {
    return throw_range_error(env, "ERR_OUT_OF_RANGE", "the file is shorter than the requested mapping");
  }
  const int flags = MAP_SHARED | (populate ? MAP_POPULATE : 0);
  void* address = mmap(nullptr, static_cast<size_t>(length), PROT_READ | PROT_WRITE, flags,
                       static_cast<int>(fd), 0);
  if (address == MAP_FAILED) return throw_errno(env, errno, "mmap");

  auto* m = new Mapping();
  m->address = address;
  m->length = static_cast<size_t>(length);
  m->holders = 1;  // the handle

  m->owner = instance(env);

  napi_value handle, views, ids, result;
  napi_create_object(env, &handle);
  if (napi_wrap(env, handle, m, finalize_handle, nullptr, nullptr) != napi_ok) {
    munmap(address, m->length);
    delete m;
    return throw_error(env, "ERR_NATIVE", "napi_wrap failed");
  }
  napi_create_array_with_length(env, range_count, &views);
  napi_create_array_with_length(env, range_count, &ids);
  for (uint32_t i = 0; i < range_count; i++) {
    napi_value buffer;
    char* base = static_cast<char*>(address) + ranges[i].first;
    m->holders++;
    if (napi_create_external_arraybuffer(env, base, static_cast<size_t>(ranges[i].second),
                                         finalize_view, m, &buffer) != napi_ok) {
      m->holders--;
      return throw_error(env, "ERR_NATIVE", "napi_create_external_arraybuffer failed");
    }
    napi_ref ref;
    napi_create_reference(env, buffer, 1, &ref);
    m->views.push_back(ref);
    napi_set_element(env, views, i, buffer);
    m->view_ids.push_back(m->owner->views.size());
    m->owner->views.push_back(View{reinterpret_cast<unsigned char*>(base), static_cast<size_t>(ranges[i].second)});
    napi_set_element(env, ids, i, number(env, static_cast<double>(m->view_ids.back())));
  }
  napi_create_object(env, &result);
  napi_set_named_property(env, result, "handle", handle);
  napi_set_named_property(env, result, "views", views);
  napi_set_named_property(env, result, "viewIds", ids);
  return result;
}

// unmap(handle): detach the views, then munmap. Safe to call twice.
napi_value Unmap(napi_env env, napi_callback_info info) {
  Args<1> a(env, info);
  Mapping* m = unwrap_mapping(env, a[0]);
  if (!m) return nullptr;
  if (m->unmapped) return boolean(env, false);
  for (napi_ref ref : m->views) {
    napi_value buffer;
    if (napi_get_reference_value(env, ref, &buffer) == napi_ok && buffer) {
      napi_detach_arraybuffer(env, buffer);
    }
    napi_delete_reference(env, ref);
  }
  m->views.clear();
  retire_view_ids(m);
  stop_populating(m);
  munmap(m->address, m->length);
  m->unmapped = true;
  return boolean(env, true);
}

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23  // Linux 5.14
#endif

struct Populate {
  napi_async_work work = nullptr;
  napi_ref callback = nullptr;
  Mapping* m = nullptr;
  uintptr_t from = 0, to = 0;
  bool done = false;
};

void populate_execute(napi_env, void* data) {
  auto* p = static_cast<Populate*>(data);
  Mapping* m = p->m;
  {
    std::lock_guard<std::mutex> hold(m->lock);
    if (m->closing) return;
    m->populating++;
  }
  p->done = madvise(reinterpret_cast<void*>(p->from), p->to - p->from, MADV_POPULATE_WRITE) == 0;
  // Then a write access to every page, which changes no byte: under a
  // hypervisor that shadows the guest's page tables, a page the kernel has
  // mapped still costs the first thread to write it a fault of several
  // microseconds (about 5 µs a page after MADV_POPULATE_WRITE, 10 µs without,
  // on the development machine), more than a 4 KiB write into the region;
  // here that cost falls on the thread pool. An atomic OR of zero: the
  // owner's thread may already be writing the page (it took the buffer before
  // this ran), and the locked read-modify-write writes back what it read in
  // one indivisible step, so it can never undo a store of the owner's.
  const uintptr_t page = static_cast<uintptr_t>(sysconf(_SC_PAGESIZE));
  for (uintptr_t a = p->from; a < p->to; a += page) {
    if (((a - p->from) / page) % 64 == 0) {
      std::lock_guard<std::mutex> hold(m->lock);
      if (m->closing) break;  // unmap waits for this; do not make it wait for the rest
    }
    __atomic_fetch_or(reinterpret_cast<uint64_t*>(a), 0, __ATOMIC_RELAXED);
  }
  std::lock_guard<std::mutex> hold(m->lock);
  if (--m->populating == 0) m->idle.notify_all();
}

void populate_complete(napi_env env, napi_status, void* data) {
  auto* p = static_cast<Populate*>(data);
  napi_value cb, global, arg;
  if (napi_get_reference_value(env, p->callback, &cb) == napi_ok && cb) {
    napi_get_global(env, &global);
    napi_get_boolean(env, p->done, &arg);
    napi_call_function(env, global, cb, 1, &arg, nullptr);
  }
  napi_delete_reference(env, p->callback);
  napi_delete_async_work(env, p->work);
  release(p->m);
  delete p;
}

// The mapping and the [offset, offset + length) range of a call's first three
// arguments (handle, offset, length), checked against the mapping; null after
// throwing (ERR_REGION_UNMAPPED, ERR_OUT_OF_RANGE naming `what`).
template <size_t N>
Mapping* mapped_range(napi_env env, Args<N>& a, const char* what, int64_t* offset, int64_t* length) {
  Mapping* m = unwrap_mapping(env, a[0]);
  if (!m || !a.int64(1, offset, "offset") || !a.int64(2, length, "length")) return nullptr;
  if (m->unmapped) {
    throw_error(env, "ERR_REGION_UNMAPPED", "the region is unmapped");
    return nullptr;
  }
  if (*offset < 0 || *length < 0 || static_cast<size_t>(*offset + *length) > m->length) {
    throw_range_error(env, "ERR_OUT_OF_RANGE", std::string(what) + " range outside the mapping");
    return nullptr;
  }
  return m;
}

// populate(handle, offset, length, callback(done)): on the thread pool, maps
// the pages of the range writable as if each had been written, without
// changing a byte (MADV_POPULATE_WRITE, then a write access to each page, see
// populate_execute). The first write to a page of a shared tmpfs mapping
// otherwise takes a page fault on the writer's thread, which costs more than
// a 4 KiB write into the region (docs/performance.md). done is false where
// the kernel cannot (before 5.14) or the mapping was unmapped first: the
// pages then fault in as they are written, as without it.
napi_value PopulateAsync(napi_env env, napi_callback_info info) {
  Args<4> a(env, info);
  int64_t offset, length;
  napi_valuetype type;
  if (napi_typeof(env, a[3], &type) != napi_ok || type != napi_function) {
    return throw_type_error(env, "ERR_INVALID_ARG_TYPE", "\"callback\" must be a function");
  }
  Mapping* m = mapped_range(env, a, "populate", &offset, &length);
  if (!m) return nullptr;
  if (length == 0) return throw_range_error(env, "ERR_OUT_OF_RANGE", "populate of no bytes");  // else no callback
  const uintptr_t page = static_cast<uintptr_t>(sysconf(_SC_PAGESIZE));
  auto* p = new Populate();
  p->m = m;
  p->from = (reinterpret_cast<uintptr_t>(m->address) + offset) & ~(page - 1);
  p->to = reinterpret_cast<uintptr_t>(m->address) + offset + length;
  napi_create_reference(env, a[3], 1, &p->callback);
  napi_value name;
  napi_create_string_utf8(env, "riocache.populate", NAPI_AUTO_LENGTH, &name);
  if (napi_create_async_work(env, nullptr, name, populate_execute, populate_complete, p, &p->work) != napi_ok ||
      napi_queue_async_work(env, p->work) != napi_ok) {
    napi_delete_reference(env, p->callback);
    delete p;
    return throw_error(env, "ERR_NATIVE", "napi_create_async_work failed");
  }
  m->holders++;  // released by populate_complete
  return nullptr;
}

// msync(handle, offset, length): write dirty pages of a disk-backed region.
napi_value Msync(napi_env env, napi_callback_info info) {
  Args<3> a(env, info);
  int64_t offset, length;
  Mapping* m = mapped_range(env, a, "msync", &offset, &length);
  if (!m) return nullptr;
  const uintptr_t page = static_cast<uintptr_t>(sysconf(_SC_PAGESIZE));
  const uintptr_t from = (reinterpret_cast<uintptr_t>(m->address) + offset) & ~(page - 1);
  const uintptr_t to = reinterpret_cast<uintptr_t>(m->address) + offset + length;
  if (to > from && msync(reinterpret_cast<void*>(from), to - from, MS_SYNC) != 0) {
    return throw_errno(env, errno, "msync");
  }
  return nullptr;
}

}  // namespace

napi_status mapping_register(napi_env env, napi_value exports) {
  return define_functions(env, exports, {{"map", Map}, {"unmap", Unmap}, {"msync", Msync}, {"populate", PopulateAsync}});
}

}  // namespace rio
