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

#include <cstring>

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

}  // namespace

napi_status reads_register(napi_env env, napi_value exports) {
  return define_functions(env, exports, {{"preadAt", PreadAt}, {"preadRegion", PreadRegion}});
}

}  // namespace rio
