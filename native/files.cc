#include "files.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <string>

#include "util.h"

namespace rio {
namespace {

// Locks live far past any real data so they never meet a program's own
// byte-range locks on the same file. Byte 0 of the pair is the exclusion lock
// (an OFD lock: it belongs to the open file description, so two opens in one
// process conflict, and the kernel drops it when the owner dies). Byte 1 is a
// classic POSIX lock taken only so that F_GETLK can name the owner's pid,
// which OFD locks do not report (their l_pid is -1).
constexpr off_t kLockBase = off_t(1) << 62;

int set_lock(int fd, int cmd, short type, off_t start) {
  struct flock fl;
  memset(&fl, 0, sizeof fl);
  fl.l_type = type;
  fl.l_whence = SEEK_SET;
  fl.l_start = start;
  fl.l_len = 1;
  return fcntl(fd, cmd, &fl);
}

// lockTry(fd, shared = false) -> 0 when taken, else the holder's pid, or -1
// when the holder is unknown (it is this process, or it closed the
// descriptor that carried the pid lock). A shared lock (read-only opens of
// data files) excludes exclusive holders only.
napi_value LockTry(napi_env env, napi_callback_info info) {
  Args<2> a(env, info);
  int64_t fd;
  bool shared = false;
  if (!a.int64(0, &fd, "fd")) return nullptr;
  napi_valuetype t;
  napi_typeof(env, a[1], &t);
  if (t != napi_undefined && !a.boolean(1, &shared, "shared")) return nullptr;
  const short type = shared ? F_RDLCK : F_WRLCK;
  if (set_lock(static_cast<int>(fd), F_OFD_SETLK, type, kLockBase) != 0) {
    if (errno != EAGAIN && errno != EACCES) return throw_errno(env, errno, "fcntl(F_OFD_SETLK)");
    struct flock fl;
    memset(&fl, 0, sizeof fl);
    fl.l_type = type;
    fl.l_whence = SEEK_SET;
    fl.l_start = kLockBase + 1;
    fl.l_len = 1;
    if (fcntl(static_cast<int>(fd), F_GETLK, &fl) == 0 && fl.l_type != F_UNLCK && fl.l_pid > 0) {
      return number(env, fl.l_pid);
    }
    return number(env, -1);
  }
  // The pid lock is best effort: exclusion is already held.
  set_lock(static_cast<int>(fd), F_SETLK, type, kLockBase + 1);
  return number(env, 0);
}

// lockOwner(fd) -> 0 when nobody holds the exclusion lock, else the holder's
// pid (-1 when unknown). Takes nothing: inspection must not disturb an owner.
napi_value LockOwner(napi_env env, napi_callback_info info) {
  Args<1> a(env, info);
  int64_t fd;
  if (!a.int64(0, &fd, "fd")) return nullptr;
  struct flock fl;
  memset(&fl, 0, sizeof fl);
  fl.l_type = F_WRLCK;
  fl.l_whence = SEEK_SET;
  fl.l_start = kLockBase;
  fl.l_len = 1;
  if (fcntl(static_cast<int>(fd), F_OFD_GETLK, &fl) != 0) return throw_errno(env, errno, "fcntl(F_OFD_GETLK)");
  if (fl.l_type == F_UNLCK) return number(env, 0);
  memset(&fl, 0, sizeof fl);
  fl.l_type = F_WRLCK;
  fl.l_whence = SEEK_SET;
  fl.l_start = kLockBase + 1;
  fl.l_len = 1;
  if (fcntl(static_cast<int>(fd), F_GETLK, &fl) == 0 && fl.l_type != F_UNLCK && fl.l_pid > 0) return number(env, fl.l_pid);
  return number(env, -1);
}

napi_value Unlock(napi_env env, napi_callback_info info) {
  Args<1> a(env, info);
  int64_t fd;
  if (!a.int64(0, &fd, "fd")) return nullptr;
  set_lock(static_cast<int>(fd), F_SETLK, F_UNLCK, kLockBase + 1);
  if (set_lock(static_cast<int>(fd), F_OFD_SETLK, F_UNLCK, kLockBase) != 0) {
    return throw_errno(env, errno, "fcntl(F_OFD_SETLK)");
  }
  return nullptr;
}

long openat2_beneath(int dirfd, const char* path, int flags, mode_t mode) {
  struct open_how how;
  memset(&how, 0, sizeof how);
  how.flags = static_cast<uint64_t>(flags) | O_CLOEXEC;
  // O_CREAT/O_TMPFILE are the only flags that take a mode; openat2 rejects a
  // mode otherwise (EINVAL). O_TMPFILE is __O_TMPFILE | O_DIRECTORY, so it is
  // matched whole: `flags & __O_TMPFILE` alone would also match a plain
  // O_DIRECTORY open where glibc's __O_TMPFILE includes O_DIRECTORY.
  bool takes_mode = (flags & O_CREAT) == O_CREAT || (flags & __O_TMPFILE) == __O_TMPFILE;
  how.mode = takes_mode ? mode : 0;
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
  return syscall(SYS_openat2, dirfd, path, &how, sizeof how);
}

// Fallback where openat2 is missing: walk the components with O_NOFOLLOW.
// Stricter than openat2 (no symlink is followed at all), never looser.
int open_walk(int rootfd, const std::string& path, int flags, mode_t mode) {
  int dir = dup(rootfd);
  if (dir < 0) return -1;
  size_t start = 0;
  for (;;) {
    size_t slash = path.find('/', start);
    std::string part = path.substr(start, slash == std::string::npos ? std::string::npos : slash - start);
    if (part == "..") {
      close(dir);
      errno = EXDEV;
      return -1;
    }
    if (slash == std::string::npos) {
      int fd = openat(dir, part.empty() ? "." : part.c_str(), flags | O_NOFOLLOW | O_CLOEXEC, mode);
      int saved = errno;
      close(dir);
      errno = saved;
      return fd;
    }
    if (!part.empty() && part != ".") {
      int next = openat(dir, part.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      int saved = errno;
      close(dir);
      if (next < 0) {
        errno = saved;
        return -1;
      }
      dir = next;
    }
    start = slash + 1;
  }
}

int open_beneath(int rootfd, const std::string& path, int flags, mode_t mode) {
  long fd = openat2_beneath(rootfd, path.empty() ? "." : path.c_str(), flags, mode);
  if (fd < 0 && errno == ENOSYS) return open_walk(rootfd, path, flags, mode);
  return static_cast<int>(fd);
}

// openBeneath(rootFd, relativePath, flags, mode) -> fd. EXDEV means the path
// (through "..", an absolute path or a symlink) leads out of the root.
napi_value OpenBeneath(napi_env env, napi_callback_info info) {
  Args<4> a(env, info);
  int64_t rootfd, flags, mode;
  std::string path;
  if (!a.int64(0, &rootfd, "rootFd") || !a.str(1, &path, "path") || !a.int64(2, &flags, "flags") ||
      !a.int64(3, &mode, "mode")) {
    return nullptr;
  }
  int fd = open_beneath(static_cast<int>(rootfd), path, static_cast<int>(flags), static_cast<mode_t>(mode));
  if (fd < 0) return throw_errno(env, errno, "openat2");
  return number(env, fd);
}

// Splits "a/b/c" into an O_PATH descriptor of "a/b" (opened beneath the root)
// and "c". The last component is never followed by unlinkat/renameat/mkdirat.
int open_parent(int rootfd, const std::string& path, std::string* base) {
  size_t slash = path.rfind('/');
  std::string parent = slash == std::string::npos ? "." : path.substr(0, slash);
  *base = slash == std::string::npos ? path : path.substr(slash + 1);
  if (base->empty() || *base == "." || *base == "..") {
    errno = EINVAL;
    return -1;
  }
  return open_beneath(rootfd, parent, O_PATH | O_DIRECTORY, 0);
}

napi_value UnlinkBeneath(napi_env env, napi_callback_info info) {
  Args<3> a(env, info);
  int64_t rootfd;
  bool directory;
  std::string path, base;
  if (!a.int64(0, &rootfd, "rootFd") || !a.str(1, &path, "path") || !a.boolean(2, &directory, "directory")) {
    return nullptr;
  }
  int dir = open_parent(static_cast<int>(rootfd), path, &base);
  if (dir < 0) return throw_errno(env, errno, "unlinkat");
  int rc = unlinkat(dir, base.c_str(), directory ? AT_REMOVEDIR : 0);
  int saved = errno;
  close(dir);
  if (rc != 0) return throw_errno(env, saved, directory ? "rmdir" : "unlink");
  return nullptr;
}

napi_value RenameBeneath(napi_env env, napi_callback_info info) {
  Args<3> a(env, info);
  int64_t rootfd;
  std::string from, to, from_base, to_base;
  if (!a.int64(0, &rootfd, "rootFd") || !a.str(1, &from, "from") || !a.str(2, &to, "to")) return nullptr;
  int from_dir = open_parent(static_cast<int>(rootfd), from, &from_base);
  if (from_dir < 0) return throw_errno(env, errno, "rename");
  int to_dir = open_parent(static_cast<int>(rootfd), to, &to_base);
  if (to_dir < 0) {
    int saved = errno;
    close(from_dir);
    return throw_errno(env, saved, "rename");
  }
  int rc = renameat(from_dir, from_base.c_str(), to_dir, to_base.c_str());
  int saved = errno;
  close(from_dir);
  close(to_dir);
  if (rc != 0) return throw_errno(env, saved, "rename");
  return nullptr;
}

napi_value MkdirBeneath(napi_env env, napi_callback_info info) {
  Args<3> a(env, info);
  int64_t rootfd, mode;
  std::string path, base;
  if (!a.int64(0, &rootfd, "rootFd") || !a.str(1, &path, "path") || !a.int64(2, &mode, "mode")) return nullptr;
  int dir = open_parent(static_cast<int>(rootfd), path, &base);
  if (dir < 0) return throw_errno(env, errno, "mkdir");
  int rc = mkdirat(dir, base.c_str(), static_cast<mode_t>(mode));
  int saved = errno;
  close(dir);
  if (rc != 0) return throw_errno(env, saved, "mkdir");
  return nullptr;
}

// linkBeneath(rootFd, fd, path): gives the unnamed file `fd` (opened with
// O_TMPFILE) the name `path` beneath the root, atomically: linkat through
// /proc/self/fd with AT_SYMLINK_FOLLOW (AT_EMPTY_PATH would need
// CAP_DAC_READ_SEARCH). EEXIST when the name is taken; never replaces.
napi_value LinkBeneath(napi_env env, napi_callback_info info) {
  Args<3> a(env, info);
  int64_t rootfd, fd;
  std::string path, base;
  if (!a.int64(0, &rootfd, "rootFd") || !a.int64(1, &fd, "fd") || !a.str(2, &path, "path")) return nullptr;
  int dir = open_parent(static_cast<int>(rootfd), path, &base);
  if (dir < 0) return throw_errno(env, errno, "link");
  std::string proc = "/proc/self/fd/" + std::to_string(fd);
  int rc = linkat(AT_FDCWD, proc.c_str(), dir, base.c_str(), AT_SYMLINK_FOLLOW);
  int saved = errno;
  close(dir);
  if (rc != 0) return throw_errno(env, saved, "link");
  return nullptr;
}

// fadvise(fd, offset, length, advice): advice is "dontneed", "willneed",
// "sequential", "random" or "normal".
napi_value Fadvise(napi_env env, napi_callback_info info) {
  Args<4> a(env, info);
  int64_t fd, offset, length;
  std::string advice;
  if (!a.int64(0, &fd, "fd") || !a.int64(1, &offset, "offset") || !a.int64(2, &length, "length") ||
      !a.str(3, &advice, "advice")) {
    return nullptr;
  }
  int adv;
  if (advice == "dontneed") adv = POSIX_FADV_DONTNEED;
  else if (advice == "willneed") adv = POSIX_FADV_WILLNEED;
  else if (advice == "sequential") adv = POSIX_FADV_SEQUENTIAL;
  else if (advice == "random") adv = POSIX_FADV_RANDOM;
  else if (advice == "normal") adv = POSIX_FADV_NORMAL;
  else return throw_type_error(env, "ERR_INVALID_ARG_VALUE", "unknown \"advice\": " + advice);
  int rc = posix_fadvise(static_cast<int>(fd), offset, length, adv);
  if (rc != 0) return throw_errno(env, rc, "posix_fadvise");
  return nullptr;
}

// allocate(fd, offset, length): reserve blocks so later stores through a
// mapping cannot fail with SIGBUS on a full tmpfs.
napi_value Allocate(napi_env env, napi_callback_info info) {
  Args<3> a(env, info);
  int64_t fd, offset, length;
  if (!a.int64(0, &fd, "fd") || !a.int64(1, &offset, "offset") || !a.int64(2, &length, "length")) return nullptr;
  int rc = posix_fallocate(static_cast<int>(fd), offset, length);
  if (rc != 0) return throw_errno(env, rc, "posix_fallocate");
  return nullptr;
}

// retireDescriptor(fd): points fd at /dev/null (dup3), closing the file it
// held, without freeing the number. For a descriptor with asynchronous I/O
// queued on it: those requests then read nothing and write nowhere, instead
// of reaching whatever file the kernel would next give that number to.
// Close it (fs.closeSync) once they have completed.
napi_value RetireDescriptor(napi_env env, napi_callback_info info) {
  Args<1> a(env, info);
  int64_t fd;
  if (!a.int64(0, &fd, "fd")) return nullptr;
  int null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
  if (null_fd < 0) return throw_errno(env, errno, "open(/dev/null)");
  int rc = dup3(null_fd, static_cast<int>(fd), O_CLOEXEC);
  int saved = errno;
  close(null_fd);
  if (rc < 0) return throw_errno(env, saved, "dup3");
  return nullptr;
}

}  // namespace

napi_status files_register(napi_env env, napi_value exports) {
  return define_functions(env, exports,
                          {{"lockTry", LockTry},
                           {"lockOwner", LockOwner},
                           {"unlock", Unlock},
                           {"openBeneath", OpenBeneath},
                           {"unlinkBeneath", UnlinkBeneath},
                           {"renameBeneath", RenameBeneath},
                           {"mkdirBeneath", MkdirBeneath},
                           {"linkBeneath", LinkBeneath},
                           {"fadvise", Fadvise},
                           {"allocate", Allocate},
                           {"retireDescriptor", RetireDescriptor}});
}

}  // namespace rio
