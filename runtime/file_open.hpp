// Opening files safely, in the two ways the project needs:
//
// * read_regular_file: a file named by an operator (a config file and the
//   files it references: rules, prices, workflows). A FIFO or a device would
//   block the reader forever or never end, so anything but a regular file is
//   refused at once: the file is opened O_NONBLOCK and checked with fstat on
//   the descriptor actually opened (no stat-then-open race).
//
// * open_beneath: a path named by a model below a sandbox root (file_read).
//   The path is resolved by the kernel or by us relative to a descriptor of
//   the root, never as a string checked first and opened later, so swapping
//   a directory for a symlink to outside while a call runs cannot escape.
//
// Both block on the file system: call them from a detached actor or a plain
// thread, never from a CAF scheduler thread.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <string>
#include <string_view>

#include <caf/expected.hpp>

namespace agentgraph {

// Owns a file descriptor and closes it on every return path.
class unique_fd {
 public:
  unique_fd() = default;
  explicit unique_fd(int fd) : fd_(fd) {}
  unique_fd(const unique_fd&) = delete;
  unique_fd& operator=(const unique_fd&) = delete;
  ~unique_fd();
  [[nodiscard]] int get() const { return fd_; }
  [[nodiscard]] bool valid() const { return fd_ >= 0; }
  // Gives the descriptor up without closing it.
  int release() {
    auto fd = fd_;
    fd_ = -1;
    return fd;
  }

 private:
  int fd_ = -1;
};

// Symlinks followed while resolving one path below a root, as the kernel's
// own limit (MAXSYMLINKS); one more fails with ELOOP.
constexpr int beneath_symlinks_max = 40;

// How open_beneath resolves. `best` uses openat2(RESOLVE_BENEATH |
// RESOLVE_NO_MAGICLINKS) and falls back to `walk` where the kernel lacks it
// (ENOSYS, Linux < 5.6) or a seccomp filter refuses it (EPERM). `walk` is
// the fallback alone, selectable so tests cover both paths.
enum class beneath_method { best, walk };

// Whether openat2 answers on this kernel (and is not filtered), so tests
// can say which path `best` took.
[[nodiscard]] bool openat2_available();

// Opens `rel` (relative, no NUL) below the directory `root_fd` with `flags`
// (O_CLOEXEC is added). Symlinks are followed only while they stay below
// the root: an absolute symlink, or a ".." that would climb above it, fails
// with EXDEV, the kernel's own answer for RESOLVE_BENEATH. Returns the
// descriptor, or -errno (EXDEV escape, ELOOP more than
// beneath_symlinks_max links, ENOENT, ENOTDIR, EACCES, ...).
[[nodiscard]] int open_beneath(int root_fd, std::string_view rel, int flags,
                               beneath_method method = beneath_method::best);

// "a directory", "a FIFO", "a character device", "a block device",
// "a socket"; nullptr for a regular file.
[[nodiscard]] const char* non_regular_kind(mode_t mode);

// Reads at most `bytes_max + 1` bytes from `fd` (EINTR retried), so the
// caller can tell "exactly the limit" from "larger". Returns -errno as the
// error's code in io_error.
[[nodiscard]] caf::expected<std::string> read_up_to(int fd, size_t bytes_max);

// Reads the regular file `path` whole, at most `bytes_max` bytes: the one
// bounded whole-file read for files an operator names. Errors, each starting
// "path: ", or "<what> path: " when the caller says what the file is for
// ("rules file"): io_error (cannot open, not a regular file naming what it
// is, read failure), invalid_argument ("file is larger than N bytes").
[[nodiscard]] caf::expected<std::string> read_regular_file(const std::string& path,
                                                           size_t bytes_max,
                                                           std::string_view what = {});

}  // namespace agentgraph
