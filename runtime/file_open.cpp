#include "runtime/file_open.hpp"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <deque>
#include <vector>

#include "runtime/config/config_text.hpp"
#include "runtime/error.hpp"

namespace agentgraph {

unique_fd::~unique_fd() {
  if (fd_ >= 0)
    ::close(fd_);
}

namespace file_open_detail {

// A kernel may hand back EAGAIN when a rename elsewhere raced with a ".."
// lookup under RESOLVE_BENEATH; it asks the caller to retry. Bounded so a
// steady stream of renames cannot spin us forever; the last EAGAIN is
// returned.
constexpr int openat2_eagain_retries_max = 16;

// -errno, or -ENOSYS when openat2 is missing or filtered (EPERM: seccomp;
// E2BIG / EINVAL: a kernel that knows openat2 but not these resolve flags).
int try_openat2(int root_fd, const std::string& rel, int flags) {
  open_how how{};
  how.flags = static_cast<uint64_t>(flags | O_CLOEXEC);
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
  for (int attempt = 0;; ++attempt) {
    auto fd = ::syscall(SYS_openat2, root_fd, rel.c_str(), &how, sizeof how);
    if (fd >= 0)
      return static_cast<int>(fd);
    int err = errno;
    if (err == EAGAIN && attempt + 1 < openat2_eagain_retries_max)
      continue;
    if (err == ENOSYS || err == EPERM || err == E2BIG || err == EINVAL)
      return -ENOSYS;
    return -err;
  }
}

// Puts the components of `path` ("a//./b" -> a, b) in front of `todo`.
void push_components(std::deque<std::string>& todo, std::string_view path) {
  std::vector<std::string> parts;
  for (auto part : split(path, '/'))
    if (!part.empty() && part != ".")
      parts.emplace_back(part);
  todo.insert(todo.begin(), parts.begin(), parts.end());
}

// The walk keeps a stack of descriptors of the directories it went
// through; ".." pops it instead of asking the file system, so a directory
// moved meanwhile cannot lead above the root. Every component is opened
// with O_NOFOLLOW from the descriptor of its parent: a symlink is seen as a
// symlink, read through the descriptor we hold (readlinkat on an O_PATH
// descriptor, so the link we judge is the link we opened) and spliced into
// the components still to walk.
class walker {
 public:
  explicit walker(int root_fd) : root_fd_(root_fd) {}
  ~walker() {
    for (auto fd : dirs_)
      ::close(fd);
  }
  walker(const walker&) = delete;
  walker& operator=(const walker&) = delete;

  int run(std::string_view rel, int flags) {
    push_components(todo_, rel);
    while (!todo_.empty()) {
      auto comp = std::move(todo_.front());
      todo_.pop_front();
      if (comp == "..") {
        if (dirs_.empty())
          return -EXDEV;
        ::close(dirs_.back());
        dirs_.pop_back();
        continue;
      }
      if (todo_.empty()) {
        // The last component, opened for real; ELOOP under O_NOFOLLOW
        // means it is a symlink (now), handled like any other below.
        int fd = ::openat(current(), comp.c_str(), flags | O_NOFOLLOW | O_CLOEXEC);
        if (fd >= 0 || errno != ELOOP)
          return fd >= 0 ? fd : -errno;
      }
      if (int err = step(comp); err != 0)
        return err;
    }
    // The path named a directory on the stack ("sub/x/..", "."): open it.
    int fd = ::openat(current(), ".", flags | O_CLOEXEC);
    return fd >= 0 ? fd : -errno;
  }

 private:
  int current() const { return dirs_.empty() ? root_fd_ : dirs_.back(); }

  // Descends into `comp` or expands it if it is a symlink; 0 or -errno.
  int step(const std::string& comp) {
    unique_fd at{::openat(current(), comp.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC)};
    if (!at.valid())
      return -errno;
    struct stat st {};
    if (::fstat(at.get(), &st) != 0)
      return -errno;
    bool last = todo_.empty();
    if (S_ISLNK(st.st_mode) || last) {
      // `last` and not a link: it was a link when the real open said ELOOP
      // and has been swapped back since; look again. Both count as a link
      // so a flapping entry cannot keep us here.
      if (++links_ > beneath_symlinks_max)
        return -ELOOP;
      if (!S_ISLNK(st.st_mode)) {
        todo_.push_front(comp);
        return 0;
      }
      return expand(at.get());
    }
    if (!S_ISDIR(st.st_mode))
      return -ENOTDIR;
    dirs_.push_back(at.release());
    return 0;
  }

  // Splices the link's target into the components still to walk. Bounded:
  // at most beneath_symlinks_max targets of under 4096 bytes each.
  int expand(int link_fd) {
    char target[4096];
    auto n = ::readlinkat(link_fd, "", target, sizeof target);
    if (n < 0)
      return -errno;
    if (static_cast<size_t>(n) == sizeof target)
      return -ENAMETOOLONG;
    if (n == 0)
      return -ENOENT;
    if (target[0] == '/')
      return -EXDEV;  // absolute: RESOLVE_BENEATH refuses these too
    push_components(todo_, std::string_view{target, static_cast<size_t>(n)});
    return 0;
  }

  const int root_fd_;
  std::vector<int> dirs_;  // owned; at most one per component walked
  std::deque<std::string> todo_;
  int links_ = 0;
};

}  // namespace file_open_detail

bool openat2_available() {
  using namespace file_open_detail;
  unique_fd fd{try_openat2(AT_FDCWD, ".", O_PATH | O_DIRECTORY)};
  return fd.get() != -ENOSYS;
}

int open_beneath(int root_fd, std::string_view rel, int flags, beneath_method method) {
  using namespace file_open_detail;
  if (rel.empty() || rel.front() == '/' || rel.find('\0') != std::string_view::npos)
    return -EINVAL;
  if (method == beneath_method::best) {
    int fd = try_openat2(root_fd, std::string{rel}, flags);
    if (fd != -ENOSYS)
      return fd;
  }
  walker w{root_fd};
  return w.run(rel, flags);
}

const char* non_regular_kind(mode_t mode) {
  if (S_ISREG(mode))
    return nullptr;
  if (S_ISDIR(mode))
    return "a directory";
  if (S_ISFIFO(mode))
    return "a FIFO";
  if (S_ISCHR(mode))
    return "a character device";
  if (S_ISBLK(mode))
    return "a block device";
  if (S_ISSOCK(mode))
    return "a socket";
  return "of an unknown type";
}

caf::expected<std::string> read_up_to(int fd, size_t bytes_max) {
  std::string buf;
  // Grows by doubling from a small start: most files are far below the
  // limit, and a size from fstat may be stale.
  buf.resize(std::min<size_t>(bytes_max + 1, 64 * 1024));
  size_t total = 0;
  while (total < buf.size()) {
    auto n = ::read(fd, buf.data() + total, buf.size() - total);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      return make_error(errc::io_error, std::strerror(errno));
    if (n == 0)
      break;
    total += static_cast<size_t>(n);
    if (total == buf.size() && total <= bytes_max)
      buf.resize(std::min(bytes_max + 1, buf.size() * 2));
  }
  buf.resize(total);
  return buf;
}

caf::expected<std::string> read_regular_file(const std::string& path, size_t bytes_max,
                                             std::string_view what) {
  using namespace file_open_detail;
  const std::string named = what.empty() ? path : std::string{what} + " " + path;
  // O_NONBLOCK: opening a FIFO without a writer must not hang; fstat on the
  // descriptor then refuses it.
  unique_fd fd{::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY)};
  if (!fd.valid())
    return make_error(errc::io_error, named + ": cannot open: " + std::strerror(errno));
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0)
    return make_error(errc::io_error, named + ": cannot stat: " + std::strerror(errno));
  if (auto kind = non_regular_kind(st.st_mode))
    return make_error(errc::io_error, named + ": is " + std::string{kind} + ", not a regular file");
  auto text = read_up_to(fd.get(), bytes_max);
  if (!text)
    return make_error(errc::io_error, named + ": read failed: " + error_context(text.error()));
  if (text->size() > bytes_max)
    return make_error(errc::invalid_argument,
                      named + ": file is larger than " + std::to_string(bytes_max) + " bytes");
  return text;
}

}  // namespace agentgraph
