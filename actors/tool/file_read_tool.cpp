#include "actors/tool/file_read_tool.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "actors/tool/blocking_tool.hpp"
#include "actors/tool/tool_common.hpp"
#include "runtime/error.hpp"
#include "runtime/file_open.hpp"

namespace agentgraph {

namespace file_read_tool_detail {

// Error texts name the path the model sent, never the absolute root: the
// model (and whoever reads its transcript) has no need to learn the host's
// directory layout.
caf::error open_failure(const std::string& shown, int err) {
  if (err == EXDEV)
    return make_error(errc::sandbox_violation, "path '" + shown + "' resolves outside the root");
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

caf::expected<Value> read_sandboxed_file(const std::filesystem::path& root, std::string_view path,
                                         uint64_t file_bytes_max, beneath_method method) {
  using namespace file_read_tool_detail;
  auto rel = check_relative_path(path);
  if (!rel)
    return std::move(rel.error());
  auto shown = rel->string();
  // The root is opened on every call rather than once at spawn, so a root
  // that is replaced later is honoured as it is now. It may itself be a
  // symlink: the operator chose it.
  unique_fd dir{::open(root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC)};
  if (!dir.valid())
    return make_error(errc::tool_error, "the file_read root is not accessible: "
                                          + std::string{std::strerror(errno)});
  // Resolved below the root's descriptor, never checked as a string and
  // opened later: a directory swapped for a symlink to outside mid-call
  // is seen as a symlink and refused (file_open.hpp). Symlinks that stay
  // below the root work; absolute ones are refused even when they point
  // inside, as RESOLVE_BENEATH does. O_NONBLOCK: opening a FIFO must not
  // hang the worker; fstat rejects it just below.
  unique_fd file{open_beneath(dir.get(), shown, O_RDONLY | O_NONBLOCK | O_NOCTTY, method)};
  if (!file.valid())
    return open_failure(shown, -file.get());
  struct stat st {};
  if (::fstat(file.get(), &st) != 0)
    return open_failure(shown, errno);
  if (S_ISDIR(st.st_mode))
    return make_error(errc::tool_error, "'" + shown + "' is a directory");
  if (!S_ISREG(st.st_mode))
    return make_error(errc::tool_error, "'" + shown + "' is not a regular file");
  auto size = static_cast<uint64_t>(st.st_size);
  if (size > file_bytes_max)
    return too_large(shown, size, file_bytes_max);
  auto content = read_up_to(file.get(), static_cast<size_t>(file_bytes_max));
  if (!content)
    return make_error(errc::tool_error,
                      "cannot read '" + shown + "': " + error_context(content.error()));
  // A file that grew after fstat is caught here without reading it whole.
  if (content->size() > file_bytes_max)
    return too_large(shown, content->size(), file_bytes_max);
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
