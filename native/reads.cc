// File reads of the data path, through the scratch block (fastcalls.h):
//
//   preadAt(dst):  [0]=fd [1]=dst offset [2]=length [3]=position [4]=flags
//                  reads file bytes [position, +length) into dst at offset.
//   preadRegion(jobs, count): [0]=fd [3]=position [4]=flags
//                  one preadv of consecutive file bytes from position into
//                  `count` region ranges, jobs of kReadJobSlots slots [view
//                  id, offset, length, seed (the crc out)]: each range's bytes
//                  past what the read got are zeroed, then checksummed from
//                  its seed while they are still in the CPU's caches.
//
// Both answer in [6] 0 when the range was read to its end or to the end of
// the file, else the errno that stopped them, and in [7] the bytes read
// before that (they are in place either way). flags 1 asks for RWF_NOWAIT:
// the kernel copies what its page cache holds and answers EAGAIN where it
// would have to wait for the disk, so the event loop's thread can try a read
// that costs a copy and leave only real disk reads to the thread pool. Where
// the file system does not support it the answer is EOPNOTSUPP and nothing
// was read.
//
// Errors are answered, not thrown: the caller repeats a failed read through
// node:fs, which throws the error its callers expect (fs.readSync's).
#include "reads.h"

#include <errno.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "crc32c.h"
#include "instance.h"
#include "scratch_args.h"
#include "util.h"

namespace rio {
namespace {

constexpr size_t kReadJobSlots = 4;
// IOV_MAX is 1024 on Linux; a read of more ranges is split.
constexpr size_t kIovMax = 1024;

bool args_fd_position(napi_env env, const double* s, int* fd, off_t* position, int* flags) {
  if (!(s[0] >= 0) || s[0] > 2147483647.0 || !(s[3] >= 0) || s[3] > 9007199254740991.0) {
    throw_range_error(env, "ERR_OUT_OF_RANGE", "\"fd\" and \"position\" must be non-negative integers");
    return false;
  }
  *fd = static_cast<int>(s[0]);
  *position = static_cast<off_t>(s[3]);
  *flags = s[4] == 1 ? RWF_NOWAIT : 0;
  return true;
}

// preadv2 over iov[0, n) from position until every byte is read, the file
// ends or an error stops it; the iovecs are consumed as bytes arrive.
// Answers the errno that stopped it (0: done) and the bytes read.
int read_all(int fd, struct iovec* iov, size_t n, off_t position, int flags, size_t* got) {
  *got = 0;
  size_t first = 0;
  while (first < n) {
    if (iov[first].iov_len == 0) {
      first++;
      continue;
    }
    const int count = static_cast<int>(n - first < kIovMax ? n - first : kIovMax);
    const off_t at = position + static_cast<off_t>(*got);
    // One range and no flags: pread, which skips preadv2's copy of the iovec from user memory.
    const ssize_t r = count == 1 && flags == 0 ? pread(fd, iov[first].iov_base, iov[first].iov_len, at)
                                               : preadv2(fd, iov + first, count, at, flags);
    if (r < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    if (r == 0) return 0;  // the end of the file
    size_t left = static_cast<size_t>(r);
    *got += left;
    while (left > 0 && first < n) {
      const size_t take = left < iov[first].iov_len ? left : iov[first].iov_len;
      iov[first].iov_base = static_cast<char*>(iov[first].iov_base) + take;
      iov[first].iov_len -= take;
      left -= take;
      if (iov[first].iov_len == 0) first++;
    }
  }
  return 0;
}

napi_value PreadAt(napi_env env, napi_callback_info info) {
  double* s = instance(env)->scratch;
  void* data = nullptr;
  size_t bytes = 0;
  int fd, flags;
  off_t position;
  if (!bytes_only_arg(env, info, "\"dst\" must be a byte array", &data, &bytes) ||
      !args_fd_position(env, s, &fd, &position, &flags)) {
    return nullptr;
  }
  if (!(s[1] >= 0) || !(s[2] >= 0) || s[1] + s[2] > static_cast<double>(bytes)) {
    throw_range_error(env, "ERR_OUT_OF_RANGE", "range outside \"dst\"");
    return nullptr;
  }
  struct iovec iov = {static_cast<char*>(data) + static_cast<size_t>(s[1]), static_cast<size_t>(s[2])};
  size_t got = 0;
  s[6] = read_all(fd, &iov, 1, position, flags, &got);
  s[7] = static_cast<double>(got);
  return nullptr;
}

napi_value PreadRegion(napi_env env, napi_callback_info info) {
  Instance* in = instance(env).get();
  double* s = in->scratch;
  size_t argc = 2;
  napi_value argv[2];
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  void* data = nullptr;
  size_t count = 0;
  int fd, flags;
  off_t position;
  if (!jobs_args(env, argc, argv, 0, [](napi_typedarray_type t) { return t == napi_float64_array; },
                 "\"jobs\" must be a Float64Array", kReadJobSlots, &data, &count) ||
      !args_fd_position(env, s, &fd, &position, &flags)) {
    return nullptr;
  }
  double* jobs = static_cast<double*>(data);
  // Checked before anything is read: a bad job throws with the region untouched.
  unsigned char* ranges[kIovMax];
  if (count > kIovMax) {
    throw_range_error(env, "ERR_OUT_OF_RANGE", "at most 1024 jobs per read");
    return nullptr;
  }
  for (size_t j = 0; j < count; j++) {
    const double* w = jobs + j * kReadJobSlots;
    if (!range(env, in, w[0], w[1], w[2], &ranges[j])) return nullptr;
  }
  struct iovec iov[kIovMax];
  for (size_t j = 0; j < count; j++) iov[j] = {ranges[j], static_cast<size_t>(jobs[j * kReadJobSlots + 2])};
  size_t got = 0;
  const int err = read_all(fd, iov, count, position, flags, &got);
  s[6] = err;
  s[7] = static_cast<double>(got);
  if (err != 0) return nullptr;  // the caller gives the buffers back: nothing to checksum
  size_t at = 0;
  for (size_t j = 0; j < count; j++) {
    double* w = jobs + j * kReadJobSlots;
    const size_t length = static_cast<size_t>(w[2]);
    const size_t valid = got > at ? (got - at < length ? got - at : length) : 0;
    if (valid < length) std::memset(ranges[j] + valid, 0, length - valid);
    w[3] = crc32c_extend(static_cast<uint32_t>(w[3]), ranges[j], length);
    at += length;
  }
  return nullptr;
}

// The warm reboot's reads of dirty buffers go through the region FILE, not
// the mapping: the kernel copies them from its own pages, where a first read
// of each page of a mapping new to the process costs a page fault (under a
// hypervisor that shadows page tables, 5-10 µs a page: docs/performance.md).
// Reads are made in region order, ranges less than kGapMax apart read as one,
// at most kBounceBytes a read (and never less than one job).
constexpr size_t kRegionJobSlots = 5;
constexpr double kGapMax = 64 * 1024;
constexpr size_t kBounceBytes = 1024 * 1024;

unsigned char* bounce(Instance* in, size_t bytes) {
  if (in->bounce.size() < bytes) in->bounce.resize(bytes);
  return in->bounce.data();
}

// pread of exactly `length` bytes at `position` (the region file has every byte it maps): 0 or the errno.
int pread_exact(int fd, unsigned char* dst, size_t length, off_t position) {
  size_t got = 0;
  while (got < length) {
    const ssize_t r = pread(fd, dst + got, length - got, position + static_cast<off_t>(got));
    if (r < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    if (r == 0) return EIO;  // shorter than its geometry: not a region this process opened
    got += static_cast<size_t>(r);
  }
  return 0;
}

bool region_jobs(napi_env env, napi_callback_info info, size_t slots, double** jobs, size_t* count) {
  size_t argc = 2;
  napi_value argv[2];
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  void* data = nullptr;
  if (!jobs_args(env, argc, argv, 0, [](napi_typedarray_type t) { return t == napi_float64_array; },
                 "\"jobs\" must be a Float64Array", slots, &data, count)) {
    return false;
  }
  *jobs = static_cast<double*>(data);
  for (size_t j = 0; j < *count; j++) {
    const double* w = *jobs + j * slots;
    if (!(w[0] >= 0) || !(w[1] >= 0) || w[1] > static_cast<double>(kBounceBytes)) {
      throw_range_error(env, "ERR_OUT_OF_RANGE", "a job's region offset or length is out of range");
      return false;
    }
  }
  return true;
}

// verifyRegionFile(jobs, count): scratch [0] = the region file's descriptor;
// jobs of kRegionJobSlots slots [region file offset, length, seed, expected
// crc, actual crc (out)]. [6] = 0, or the errno of a failed read (the caller
// verifies through the mapping then); [7] = how many actual crcs differ.
napi_value VerifyRegionFile(napi_env env, napi_callback_info info) {
  Instance* in = instance(env).get();
  double* s = in->scratch;
  double* jobs;
  size_t count;
  if (!region_jobs(env, info, kRegionJobSlots, &jobs, &count)) return nullptr;
  const int fd = static_cast<int>(s[0]);
  std::vector<size_t> order(count);
  for (size_t j = 0; j < count; j++) order[j] = j;
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return jobs[a * kRegionJobSlots] < jobs[b * kRegionJobSlots]; });
  unsigned char* buf = bounce(in, kBounceBytes);
  size_t mismatches = 0;
  for (size_t i = 0; i < count;) {
    const double start = jobs[order[i] * kRegionJobSlots];
    double end = start + jobs[order[i] * kRegionJobSlots + 1];
    size_t k = i + 1;
    for (; k < count; k++) {
      const double* w = jobs + order[k] * kRegionJobSlots;
      if (w[0] - end > kGapMax || std::max(end, w[0] + w[1]) - start > static_cast<double>(kBounceBytes)) break;
      end = std::max(end, w[0] + w[1]);
    }
    const int err = pread_exact(fd, buf, static_cast<size_t>(end - start), static_cast<off_t>(start));
    if (err != 0) {
      s[6] = err;
      s[7] = 0;
      return nullptr;
    }
    for (size_t m = i; m < k; m++) {
      double* w = jobs + order[m] * kRegionJobSlots;
      const uint32_t actual = crc32c_extend(static_cast<uint32_t>(w[2]), buf + static_cast<size_t>(w[0] - start),
                                            static_cast<size_t>(w[1]));
      w[4] = actual;
      if (actual != static_cast<uint32_t>(w[3])) mismatches++;
    }
    i = k;
  }
  s[6] = 0;
  s[7] = static_cast<double>(mismatches);
  return nullptr;
}

// copyRegionFile(jobs, count): scratch [0] = the region file's descriptor,
// [1] = a data file's descriptor, [3] = the file position of the first job;
// jobs of 2 slots [region file offset, length], consecutive in the data file.
// Their bytes are read from the region file and written with pwrite, through
// the bounce buffer (contiguous region ranges read as one). [6] = 0 or the
// errno that stopped it, [7] = the bytes written before that.
napi_value CopyRegionFile(napi_env env, napi_callback_info info) {
  Instance* in = instance(env).get();
  double* s = in->scratch;
  double* jobs;
  size_t count;
  if (!region_jobs(env, info, 2, &jobs, &count)) return nullptr;
  const int region_fd = static_cast<int>(s[0]);
  const int file_fd = static_cast<int>(s[1]);
  off_t position = static_cast<off_t>(s[3]);
  unsigned char* buf = bounce(in, kBounceBytes);
  size_t written = 0;
  int err = 0;
  for (size_t i = 0; i < count && err == 0;) {
    // Fill the bounce buffer with as many whole jobs as fit, each contiguous region range one read.
    size_t fill = 0, k = i;
    while (k < count && fill + static_cast<size_t>(jobs[k * 2 + 1]) <= kBounceBytes) {
      const double from = jobs[k * 2];
      double to = from + jobs[k * 2 + 1];
      size_t n = k + 1;
      while (n < count && jobs[n * 2] == to && fill + static_cast<size_t>(to - from + jobs[n * 2 + 1]) <= kBounceBytes) {
        to += jobs[n * 2 + 1];
        n++;
      }
      err = pread_exact(region_fd, buf + fill, static_cast<size_t>(to - from), static_cast<off_t>(from));
      if (err != 0) break;
      fill += static_cast<size_t>(to - from);
      k = n;
    }
    size_t out = 0;
    while (err == 0 && out < fill) {
      const ssize_t r = pwrite(file_fd, buf + out, fill - out, position + static_cast<off_t>(out));
      if (r < 0) {
        if (errno != EINTR) err = errno;
        continue;
      }
      out += static_cast<size_t>(r);
    }
    written += out;
    position += static_cast<off_t>(out);
    i = k;
  }
  s[6] = err;
  s[7] = static_cast<double>(written);
  return nullptr;
}

}  // namespace

napi_status reads_register(napi_env env, napi_value exports) {
  return define_functions(env, exports,
                          {{"preadAt", PreadAt},
                           {"preadRegion", PreadRegion},
                           {"verifyRegionFile", VerifyRegionFile},
                           {"copyRegionFile", CopyRegionFile}});
}

}  // namespace rio
