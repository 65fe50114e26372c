// The memory shard tests' fixture: an actor system, a scoped_actor to ask
// shards with, a temp directory for snapshot files and a clock moved by hand.
// Shared by memory_shard_test.cpp and memory_commit_test.cpp.
#pragma once

#include <doctest/doctest.h>

#include <atomic>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/send.hpp>
#include <unistd.h>

#include "actors/memory/memory_shard.hpp"
#include "actors/host/register_types.hpp"
#include "runtime/error.hpp"

namespace memory_shard_test {

using namespace agentgraph;

// A safety net so that a bug fails the test instead of hanging it; no test
// asserts on how long anything takes.
constexpr auto reply_timeout = std::chrono::seconds{30};

// The label a hash-256 shard writes into its file.
inline const embedding_label hash256_label{"hash-256", 256};

struct temp_dir {
  std::filesystem::path path;
  temp_dir() {
    static std::atomic<int> counter{0};
    path = std::filesystem::temp_directory_path()
           / ("agentgraph_memory_shard_test_" + std::to_string(::getpid()) + "_"
              + std::to_string(counter++));
    std::filesystem::remove_all(path);
    std::filesystem::create_directories(path);
  }
  ~temp_dir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  std::string file(const std::string& name) const { return (path / name).string(); }
};

// A clock the test moves by hand; atomic because the shard reads it on a
// scheduler thread.
struct manual_clock {
  std::shared_ptr<std::atomic<int64_t>> now = std::make_shared<std::atomic<int64_t>>(1'000'000);
  std::function<int64_t()> fn() const {
    return [n = now] { return n->load(); };
  }
  void advance(int64_t ms) { *now += ms; }
};

struct config_holder {
  caf::actor_system_config cfg;
  config_holder() {
    register_all_types(cfg);
    cfg.set("scheduler.max-threads", 2);
  }
};

// Members are destroyed in reverse: shards get their exit, then the
// scoped_actor goes, then the system.
struct fixture : config_holder {
  caf::actor_system sys{cfg};
  caf::scoped_actor self{sys};
  std::vector<memory_actor> shards;

  ~fixture() {
    // The shard's cleanup timer keeps it referenced; end it explicitly.
    for (auto& s : shards)
      caf::anon_send_exit(s, caf::exit_reason::user_shutdown);
  }

  memory_actor spawn(const memory_config& mc, const manual_clock& clock,
                     std::shared_ptr<agentgraph::metrics::registry> reg = nullptr) {
    auto shard = spawn_memory_shard(sys, mc, clock.fn(), std::move(reg));
    REQUIRE(shard);
    shards.push_back(*shard);
    return *shard;
  }

  template <class T, class... Ts>
  caf::expected<T> ask(const memory_actor& shard, Ts&&... xs) {
    caf::expected<T> out{caf::error{}};
    self->request(shard, reply_timeout, std::forward<Ts>(xs)...)
      .receive([&](T& value) { out = std::move(value); },
               [&](caf::error& err) { out = std::move(err); });
    return out;
  }

  uint64_t store(const memory_actor& shard, const std::string& text,
                 const std::string& kind = "interaction") {
    memory_entry e;
    e.text = text;
    e.kind = kind;
    e.metadata["origin"] = "test";
    auto id = ask<uint64_t>(shard, store_atom::value, e);
    REQUIRE(id);
    return *id;
  }

  memory_stats stats(const memory_actor& shard) {
    auto s = ask<memory_stats>(shard, stats_atom::value);
    REQUIRE(s);
    return *s;
  }
};

inline memory_config config(const std::string& name) {
  memory_config c;
  c.name = name;
  return c;
}

}  // namespace memory_shard_test

