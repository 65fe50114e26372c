#include "actors/tool/file_read_tool.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <system_error>

#include "actors/tool/blocking_tool.hpp"
#include "actors/tool/tool_common.hpp"
#include "runtime/error.hpp"

namespace agentgraph {

namespace file_read_tool_detail {

namespace fs = std::filesystem;

// Closes the descriptor on every return path.
struct fd_guard {
  int fd = -1;
  ~fd_guard() {
    if (fd >= 0)
      ::close(fd);
  }
};

// Error texts name the path the model sent, never the absolute root: the
// model (and whoever reads its transcript) has no need to learn the host's
// directory layout.
caf::error open_failure(const std::string& shown, int err) {
  if (err == ENOENT || err == ENOTDIR)
    return make_error(errc::tool_error, "no such file: '" + shown + "'");
  if (err == ELOOP)
    return make_error(errc::tool_error, "'" + shown + "' is a symbolic link that does not resolve");
  return make_error(errc::tool_error,
                    "cannot open '" + shown + "': " + std::string{std::strerror(err)});
}

caf::error too_large(const std::string& shown, uint64_t size, uint64_t bytes_max) {
  return make_error(errc::invalid_argument, "file '" + shown + "' is " + std::to_string(size)
                                              + " bytes; file_bytes_max is "
                                              + std::to_string(bytes_max) + " bytes");
}

// The canonical target, or an error: the root is resolved on every call
// rather than once at spawn so a root that is replaced later is still
// honoured as it is now.
caf::expected<fs::path> resolve_inside(const fs::path& root, const fs::path& rel,
                                       const std::string& shown) {
  std::error_code ec;
  auto canon_root = fs::canonical(root, ec);
  if (ec)
    return make_error(errc::tool_error, "the file_read root is not accessible: " + ec.message());
  // weakly_canonical resolves every symlink of the existing prefix, so a
  // symlinked file or directory that points out of the root shows up here.
  auto target = fs::weakly_canonical(canon_root / rel, ec);
  if (ec)
    return make_error(errc::tool_error, "cannot resolve '" + shown + "': " + ec.message());
  if (!is_within(canon_root, target))
    return make_error(errc::sandbox_violation, "path '" + shown + "' resolves outside the root");
  return target;
}

// Reads at most bytes_max + 1 bytes, so a file that grew after fstat is
// caught without reading it whole.
caf::expected<std::string> read_bounded(int fd, const std::string& shown, uint64_t size_hint,
                                        uint64_t bytes_max) {
  std::string buf;
  buf.resize(static_cast<size_t>(std::min(size_hint, bytes_max) + 1));
  size_t total = 0;
  // Each pass either reads at least one byte, stops at EOF or fails; EINTR
  // retries are the only passes that make no progress.
  while (total < buf.size()) {
    auto n = ::read(fd, buf.data() + total, buf.size() - total);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      return make_error(errc::tool_error,
                        "cannot read '" + shown + "': " + std::string{std::strerror(errno)});
    if (n == 0)
      break;
    total += static_cast<size_t>(n);
    if (total == buf.size() && total <= bytes_max)
      buf.resize(static_cast<size_t>(std::min<uint64_t>(bytes_max + 1, buf.size() * 2)));
  }
  if (total > bytes_max)
    return too_large(shown, total, bytes_max);
  buf.resize(total);
  return buf;
}

}  // namespace file_read_tool_detail

tool_spec file_read_spec(const std::string& name) {
  tool_spec spec;
  spec.name = name;
  spec.description = "Reads a text file below the tool's root directory and returns its content. "
                     "Paths are relative to the root; absolute paths and '..' are refused.";
  spec.params = {{"path", "string", "relative path, for example \"notes/today.md\"", true}};
  spec.deterministic = false;  // files change between calls
  return spec;
}

caf::expected<std::filesystem::path> check_relative_path(std::string_view path) {
  if (path.empty())
    return make_error(errc::invalid_argument, "path is empty");
  if (path.size() > file_read_path_chars_max)
    return make_error(errc::invalid_argument,
                      "path is " + std::to_string(path.size()) + " characters; the limit is "
                        + std::to_string(file_read_path_chars_max));
  if (path.find('\0') != std::string_view::npos)
    return make_error(errc::sandbox_violation, "path contains a NUL byte");
  if (path.front() == '/')
    return make_error(errc::sandbox_violation,
                      "absolute path '" + std::string{path} + "' is not allowed");
  std::filesystem::path p{std::string{path}};
  for (const auto& part : p)
    if (part == "..")
      return make_error(errc::sandbox_violation,
                        "path '" + std::string{path} + "' contains a '..' component");
  return p.lexically_normal();
}

bool is_within(const std::filesystem::path& root, const std::filesystem::path& path) {
  auto [r, p] = std::mismatch(root.begin(), root.end(), path.begin(), path.end());
  // A trailing separator on root yields an empty last component.
  return r == root.end() || (std::next(r) == root.end() && r->empty());
}

caf::expected<Value> read_sandboxed_file(const std::filesystem::path& root, std::string_view path,
                                         uint64_t file_bytes_max) {
  using namespace file_read_tool_detail;
  auto rel = check_relative_path(path);
  if (!rel)
    return std::move(rel.error());
  auto shown = rel->string();
  auto target = resolve_inside(root, *rel, shown);
  if (!target)
    return std::move(target.error());
  // O_NOFOLLOW: the canonical target has no symlink left, so one here was
  // planted after the check. O_NONBLOCK: opening a FIFO must not hang the
  // worker; fstat rejects it just below.
  // Residual race: someone who can write inside the root could swap an
  // intermediate directory for a symlink between the check and the open.
  // openat2(RESOLVE_BENEATH) would close it, but it also refuses absolute
  // symlinks that stay inside the root and needs Linux >= 5.6; the root is
  // meant to be a directory the model can read, not one it can write.
  fd_guard file{::open(target->c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY)};
  if (file.fd < 0)
    return open_failure(shown, errno);
  struct stat st {};
  if (::fstat(file.fd, &st) != 0)
    return open_failure(shown, errno);
  if (S_ISDIR(st.st_mode))
    return make_error(errc::tool_error, "'" + shown + "' is a directory");
  if (!S_ISREG(st.st_mode))
    return make_error(errc::tool_error, "'" + shown + "' is not a regular file");
  auto size = static_cast<uint64_t>(st.st_size);
  if (size > file_bytes_max)
    return too_large(shown, size, file_bytes_max);
  auto content = read_bounded(file.fd, shown, size, file_bytes_max);
  if (!content)
    return std::move(content.error());
  Value out = Value::object();
  out["path"] = shown;
  out["bytes"] = static_cast<int64_t>(content->size());
  out["content"] = std::move(*content);
  return out;
}

tool_actor spawn_file_read_tool(caf::actor_system& sys, const tool_config& cfg,
                                tool_metrics metrics) {
  blocking_tool_config bc;
  bc.metrics = std::move(metrics);
  bc.spec = file_read_spec(cfg.name);
  bc.worker_timeout = cfg.timeout;
  bc.job = [root = std::filesystem::path{cfg.root}, bytes_max = cfg.file_bytes_max](const Value& args) {
    return read_sandboxed_file(root, args.find("path")->as_string(), bytes_max);
  };
  return spawn_blocking_tool(sys, std::move(bc));
}

}  // namespace agentgraph
