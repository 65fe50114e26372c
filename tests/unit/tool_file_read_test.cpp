// file_read: every way out of the sandbox is refused with sandbox_violation,
// and ordinary failures come back as typed errors, both from the blocking
// function and through the actor.
#include <doctest/doctest.h>

#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

#include "actors/tool/file_read_tool.hpp"
#include "actors/tool/tool_factory.hpp"
#include "temp_dir.hpp"
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
//               link_in -> hello.txt, link_out -> <dir>/outside/secret.txt,
//               dir_out -> <dir>/outside, dangling -> ../outside/nope,
//               up_out -> ../outside/secret.txt, sub_link -> sub,
//               sub/up -> ../hello.txt, abs_in -> <root>/hello.txt,
//               gone -> nope}
//   <dir>/outside/secret.txt
struct sandbox_tree {
  test_support::temp_dir tmp{"tool-file-read"};
  fs::path dir = tmp.path;
  fs::path root = dir / "root";

  sandbox_tree() {
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
    fs::create_symlink("../outside/secret.txt", root / "up_out");
    fs::create_directory_symlink("sub", root / "sub_link");
    fs::create_symlink("../hello.txt", root / "sub" / "up");
    fs::create_symlink(root / "hello.txt", root / "abs_in");
    fs::create_symlink("nope", root / "gone");
  }
};

struct denied_case {
  std::string path;
  agentgraph::errc code;
  const char* context_part;
};

using agentgraph::beneath_method;
using agentgraph::errc;

// Both resolution paths: openat2 where the kernel has it, and the
// component walk it falls back to (forced here, so it is covered on
// kernels that have openat2 too).
const beneath_method all_methods[] = {beneath_method::best, beneath_method::walk};

TEST_CASE("tool: file_read reads files inside the root") {
  sandbox_tree tree;
  MESSAGE("openat2 available: " << agentgraph::openat2_available());
  for (auto method : all_methods) {
    CAPTURE(static_cast<int>(method));
    for (const char* path : {"hello.txt", "./hello.txt", "link_in", "sub/up"}) {
      CAPTURE(path);
      auto r = agentgraph::read_sandboxed_file(tree.root, path, bytes_max, method);
      REQUIRE(r);
      CHECK(r->find("content")->as_string() == "hello");
      CHECK(r->find("bytes")->as_int() == 5);
    }
    auto inner = agentgraph::read_sandboxed_file(tree.root, "sub//inner.txt", bytes_max, method);
    REQUIRE(inner);
    CHECK(inner->find("path")->as_string() == "sub/inner.txt");
    auto via_link = agentgraph::read_sandboxed_file(tree.root, "sub_link/inner.txt", bytes_max,
                                                    method);
    REQUIRE(via_link);
    CHECK(via_link->find("content")->as_string() == "inner");
    auto exact = agentgraph::read_sandboxed_file(tree.root, "exact.txt", bytes_max, method);
    REQUIRE(exact);
    CHECK(exact->find("bytes")->as_int() == static_cast<int64_t>(bytes_max));
  }
}

TEST_CASE("tool: file_read refuses every sandbox escape and reports other failures typed") {
  sandbox_tree tree;
  for (auto method : all_methods) {
  CAPTURE(static_cast<int>(method));
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
    {"dangling", errc::sandbox_violation, "resolves outside the root"},
    {"up_out", errc::sandbox_violation, "resolves outside the root"},
    {"sub_link/../../outside/secret.txt", errc::sandbox_violation, "'..'"},
    {"abs_in", errc::sandbox_violation, "resolves outside the root"},
    {std::string("hello.txt\0/../../x", 18), errc::sandbox_violation, "NUL byte"},
    {"big.txt", errc::invalid_argument, "is 65 bytes; file_bytes_max is 64 bytes"},
    {"missing.txt", errc::tool_error, "no such file"},
    {"sub/missing/deeper.txt", errc::tool_error, "no such file"},
    {"sub", errc::tool_error, "is a directory"},
    {".", errc::tool_error, "is a directory"},
    {"fifo", errc::tool_error, "not a regular file"},
    {"gone", errc::tool_error, "no such file"},
    {"hello.txt/x", errc::tool_error, "no such file"},
    {"", errc::invalid_argument, "empty"},
    {std::string(agentgraph::file_read_path_chars_max + 1, 'a'), errc::invalid_argument,
     "the limit is 4096"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.path);
    auto r = agentgraph::read_sandboxed_file(tree.root, c.path, bytes_max, method);
    REQUIRE_FALSE(r);
    CHECK(agentgraph::errc_of(r.error()) == c.code);
    CHECK(agentgraph::error_context(r.error()).find(c.context_part) != std::string::npos);
    // The host's layout stays private: no error names the absolute root.
    CHECK(agentgraph::error_context(r.error()).find(tree.root.string()) == std::string::npos);
  }
  }
}

// Issue 9 part 4: a thread swaps root/dir between a real directory and a
// symlink to outside while reads of dir/f.txt run. A check-then-open
// resolver escapes most of the time; the descriptor-relative one must never
// return the outside file's content. The loop stops once reads have seen
// both states (inside content and a refusal), so the test proves the swap
// raced with the reads, or fails when its bound runs out first.
void race_swapped_directory(beneath_method method) {
  sandbox_tree tree;
  fs::create_directories(tree.root / "real");
  write_file(tree.root / "real" / "f.txt", "inside");
  write_file(tree.dir / "outside" / "f.txt", "outside");
  fs::rename(tree.root / "real", tree.root / "dir");
  fs::create_directory_symlink(tree.dir / "outside", tree.root / "link");
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> swaps{0};
  // Four renames per round: dir -> parked, link -> dir (now a symlink),
  // dir -> link, parked -> dir (a directory again).
  std::thread swapper{[&] {
    const auto r = tree.root;
    while (!stop.load()) {
      fs::rename(r / "dir", r / "parked");
      fs::rename(r / "link", r / "dir");
      fs::rename(r / "dir", r / "link");
      fs::rename(r / "parked", r / "dir");
      swaps.fetch_add(1);
    }
  }};
  constexpr int reads_max = 200'000;
  int reads = 0, inside = 0, refused = 0, escapes = 0;
  for (; reads < reads_max && (inside == 0 || refused == 0 || reads < 2'000); ++reads) {
    auto r = agentgraph::read_sandboxed_file(tree.root, "dir/f.txt", bytes_max, method);
    if (r && r->find("content")->as_string() == "outside")
      ++escapes;
    else if (r)
      ++inside;
    else if (agentgraph::errc_of(r.error()) == errc::sandbox_violation)
      ++refused;
  }
  stop = true;
  swapper.join();
  CAPTURE(reads);
  CAPTURE(swaps.load());
  CHECK(escapes == 0);
  CHECK(swaps.load() > 0);
  CHECK(inside > 0);
  CHECK(refused > 0);
}

TEST_CASE("tool: file_read holds while a directory is swapped for a symlink (openat2)") {
  race_swapped_directory(beneath_method::best);
}

TEST_CASE("tool: file_read holds while a directory is swapped for a symlink (walk)") {
  race_swapped_directory(beneath_method::walk);
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
