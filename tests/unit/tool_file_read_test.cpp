// file_read: every way out of the sandbox is refused with sandbox_violation,
// and ordinary failures come back as typed errors, both from the blocking
// function and through the actor.
#include <doctest/doctest.h>

#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <string>

#include "actors/tool/file_read_tool.hpp"
#include "actors/tool/tool_factory.hpp"
#include "tool_test_fixture.hpp"

namespace tool_file_read_test {

namespace fs = std::filesystem;

constexpr uint64_t bytes_max = 64;

void write_file(const fs::path& p, const std::string& content) {
  std::ofstream out{p, std::ios::binary};
  out << content;
}

// A fresh tree per test under the system temp dir:
//   <dir>/root/{hello.txt, exact.txt, big.txt, sub/inner.txt, fifo,
//               link_in -> hello.txt, link_out -> ../outside/secret.txt,
//               dir_out -> ../outside, dangling -> ../outside/nope}
//   <dir>/outside/secret.txt
struct sandbox_tree {
  fs::path dir;
  fs::path root;

  sandbox_tree() {
    std::random_device rd;
    dir = fs::temp_directory_path()
          / ("agentgraph-tool-file-read-" + std::to_string(::getpid()) + "-"
             + std::to_string(rd()));
    root = dir / "root";
    fs::create_directories(root / "sub");
    fs::create_directories(dir / "outside");
    write_file(root / "hello.txt", "hello");
    write_file(root / "exact.txt", std::string(bytes_max, 'x'));
    write_file(root / "big.txt", std::string(bytes_max + 1, 'x'));
    write_file(root / "sub" / "inner.txt", "inner");
    write_file(dir / "outside" / "secret.txt", "secret");
    ::mkfifo((root / "fifo").c_str(), 0600);
    fs::create_symlink("hello.txt", root / "link_in");
    fs::create_symlink(dir / "outside" / "secret.txt", root / "link_out");
    fs::create_directory_symlink(dir / "outside", root / "dir_out");
    fs::create_symlink("../outside/nope", root / "dangling");
  }
  ~sandbox_tree() {
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
};

struct denied_case {
  std::string path;
  agentgraph::errc code;
  const char* context_part;
};

using agentgraph::errc;

TEST_CASE("tool: file_read reads files inside the root") {
  sandbox_tree tree;
  for (const char* path : {"hello.txt", "./hello.txt", "link_in"}) {
    CAPTURE(path);
    auto r = agentgraph::read_sandboxed_file(tree.root, path, bytes_max);
    REQUIRE(r);
    CHECK(r->find("content")->as_string() == "hello");
    CHECK(r->find("bytes")->as_int() == 5);
  }
  auto inner = agentgraph::read_sandboxed_file(tree.root, "sub//inner.txt", bytes_max);
  REQUIRE(inner);
  CHECK(inner->find("path")->as_string() == "sub/inner.txt");
  auto exact = agentgraph::read_sandboxed_file(tree.root, "exact.txt", bytes_max);
  REQUIRE(exact);
  CHECK(exact->find("bytes")->as_int() == static_cast<int64_t>(bytes_max));
}

TEST_CASE("tool: file_read refuses every sandbox escape and reports other failures typed") {
  sandbox_tree tree;
  const std::vector<denied_case> cases{
    {"/etc/passwd", errc::sandbox_violation, "absolute path"},
    {(tree.dir / "outside" / "secret.txt").string(), errc::sandbox_violation, "absolute path"},
    {"../outside/secret.txt", errc::sandbox_violation, "'..'"},
    {"a/../../x", errc::sandbox_violation, "'..'"},
    {"sub/../hello.txt", errc::sandbox_violation, "'..'"},
    {"sub/..", errc::sandbox_violation, "'..'"},
    {"link_out", errc::sandbox_violation, "resolves outside the root"},
    {"dir_out/secret.txt", errc::sandbox_violation, "resolves outside the root"},
    {"dir_out", errc::sandbox_violation, "resolves outside the root"},
    {std::string("hello.txt\0/../../x", 18), errc::sandbox_violation, "NUL byte"},
    {"big.txt", errc::invalid_argument, "is 65 bytes; file_bytes_max is 64 bytes"},
    {"missing.txt", errc::tool_error, "no such file"},
    {"sub/missing/deeper.txt", errc::tool_error, "no such file"},
    {"sub", errc::tool_error, "is a directory"},
    {".", errc::tool_error, "is a directory"},
    {"fifo", errc::tool_error, "not a regular file"},
    {"dangling", errc::tool_error, ""},
    {"", errc::invalid_argument, "empty"},
    {std::string(agentgraph::file_read_path_chars_max + 1, 'a'), errc::invalid_argument,
     "the limit is 4096"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.path);
    auto r = agentgraph::read_sandboxed_file(tree.root, c.path, bytes_max);
    REQUIRE_FALSE(r);
    CHECK(agentgraph::errc_of(r.error()) == c.code);
    CHECK(agentgraph::error_context(r.error()).find(c.context_part) != std::string::npos);
    // The host's layout stays private: no error names the absolute root.
    CHECK(agentgraph::error_context(r.error()).find(tree.root.string()) == std::string::npos);
  }
}

TEST_CASE("tool: file_read is_within compares whole components") {
  CHECK(agentgraph::is_within("/srv/a", "/srv/a"));
  CHECK(agentgraph::is_within("/srv/a", "/srv/a/b/c"));
  CHECK(agentgraph::is_within("/srv/a/", "/srv/a/b"));
  CHECK_FALSE(agentgraph::is_within("/srv/a", "/srv/ab"));
  CHECK_FALSE(agentgraph::is_within("/srv/a", "/srv"));
  CHECK_FALSE(agentgraph::is_within("/srv/a", "/etc/passwd"));
}

TEST_CASE("tool: file_read actor replies typed errors and counts them") {
  sandbox_tree tree;
  tool_test::fixture fx;
  agentgraph::tool_config cfg;
  cfg.name = "files";
  cfg.kind = "file_read";
  cfg.root = tree.root.string();
  cfg.file_bytes_max = bytes_max;
  auto tool = agentgraph::spawn_tool(fx.sys, cfg);
  REQUIRE(tool);
  fx.keep(*tool);
  auto ok = fx.invoke(*tool, "c1", tool_test::args_of(R"({"path":"sub/inner.txt"})"));
  REQUIRE(ok);
  CHECK(ok->output.to_json() == R"({"bytes":5,"content":"inner","path":"sub/inner.txt"})");
  auto escape = fx.invoke(*tool, "c2", tool_test::args_of(R"({"path":"dir_out/secret.txt"})"));
  REQUIRE_FALSE(escape);
  CHECK(tool_test::code_of(escape.error()) == errc::sandbox_violation);
  auto big = fx.invoke(*tool, "c3", tool_test::args_of(R"({"path":"big.txt"})"));
  REQUIRE_FALSE(big);
  CHECK(tool_test::code_of(big.error()) == errc::invalid_argument);
  auto not_string = fx.invoke(*tool, "c4", tool_test::args_of(R"({"path":7})"));
  REQUIRE_FALSE(not_string);
  CHECK(tool_test::code_of(not_string.error()) == errc::invalid_argument);
  CHECK(fx.pongs(*tool));
  auto st = fx.stats(*tool);
  CHECK(st.calls == 4);
  CHECK(st.errors == 3);
  CHECK_FALSE(fx.describe(*tool).deterministic);
}

}  // namespace tool_file_read_test
