// A process that stores entries in a memory shard and then waits to be
// killed, for integration.memory_kill9: after kill -9, what a restart finds
// in the file is what the durability mode promised.
//
//   memory_writer PATH commit|snapshot store N   prints "stored ID" after each
//       store's reply, then "done N", then waits (at most wait_max) for SIGKILL
//   memory_writer PATH commit|snapshot count     loads PATH like a restarted
//       node, prints "entries K" and "recalled R": how many of the texts
//       of entry I (I < K) a recall finds
//
// snapshot mode runs with snapshot_interval 24h, so only a snapshot at
// shutdown would save anything, and kill -9 skips shutdown.
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/send.hpp>

#include "actors/memory/memory_shard.hpp"
#include "actors/host/register_types.hpp"
#include "runtime/error.hpp"

namespace agentgraph::memory_writer {

constexpr auto reply_timeout = std::chrono::seconds{30};
// Far above what the test needs to kill the process; a bound, not a wait.
constexpr auto wait_max = std::chrono::seconds{120};
constexpr uint64_t stores_max = 100'000;

// Words unique to each entry, so that recalling an entry's text finds that
// entry first (the hashing embedder puts short, similar texts close).
std::string text_of(uint64_t i) {
  const auto n = std::to_string(i);
  return "memory writer entry " + n + " alpha" + n + " beta" + n + " gamma" + n;
}

int store(caf::scoped_actor& self, const memory_actor& shard, uint64_t n) {
  using handle = decltype(self->request(shard, reply_timeout, store_atom::value, memory_entry{}));
  std::vector<handle> pending;
  for (uint64_t i = 0; i < n; ++i) {
    memory_entry e;
    e.text = text_of(i);
    e.kind = "fact";
    pending.push_back(self->request(shard, reply_timeout, store_atom::value, e));
  }
  int rc = 0;
  for (auto& h : pending)
    h.receive(
      [](uint64_t id) { std::printf("stored %llu\n", static_cast<unsigned long long>(id)); },
      [&](caf::error& err) {
        std::printf("failed %s\n", describe(err).c_str());
        rc = 1;
      });
  std::printf("done %llu\n", static_cast<unsigned long long>(n));
  std::fflush(stdout);
  if (rc == 0)
    std::this_thread::sleep_for(wait_max);  // the test kills us here
  return rc == 0 ? 3 : rc;
}

int count(caf::scoped_actor& self, const memory_actor& shard) {
  memory_stats stats;
  bool ok = false;
  self->request(shard, reply_timeout, stats_atom::value)
    .receive([&](memory_stats& s) { stats = s, ok = true; },
             [](caf::error& err) { std::printf("failed %s\n", describe(err).c_str()); });
  if (!ok)
    return 1;
  uint64_t recalled = 0;
  for (uint64_t i = 0; i < stats.entries; ++i)
    self->request(shard, reply_timeout, recall_atom::value, text_of(i), uint32_t{1})
      .receive(
        [&](std::vector<memory_hit>& hits) {
          if (!hits.empty() && hits[0].entry.text == text_of(i))
            ++recalled;
        },
        [](caf::error&) {});
  std::printf("entries %llu\nrecalled %llu\n", static_cast<unsigned long long>(stats.entries),
              static_cast<unsigned long long>(recalled));
  return 0;
}

int run(int argc, char** argv) {
  const std::string usage
    = "usage: memory_writer PATH commit|snapshot store N | PATH commit|snapshot count\n";
  if (argc < 4 || (std::string{argv[2]} != "commit" && std::string{argv[2]} != "snapshot")) {
    std::fputs(usage.c_str(), stderr);
    return 2;
  }
  memory_config mc;
  mc.name = "kill9";
  mc.snapshot_path = argv[1];
  mc.durability = std::string{argv[2]} == "commit" ? memory_durability::commit
                                                   : memory_durability::snapshot;
  mc.snapshot_interval = std::chrono::hours{24};
  mc.max_entries = static_cast<uint32_t>(stores_max);
  caf::actor_system_config cfg;
  register_all_types(cfg);
  cfg.set("scheduler.max-threads", 2);
  caf::actor_system sys{cfg};
  auto shard = spawn_memory_shard(sys, mc);
  if (!shard) {
    std::fprintf(stderr, "memory_writer: %s\n", describe(shard.error()).c_str());
    return 1;
  }
  caf::scoped_actor self{sys};
  int rc = 2;
  const std::string what = argv[3];
  if (what == "store" && argc == 5 && std::stoull(argv[4]) <= stores_max)
    rc = store(self, *shard, std::stoull(argv[4]));
  else if (what == "count" && argc == 4)
    rc = count(self, *shard);
  else
    std::fputs(usage.c_str(), stderr);
  caf::anon_send_exit(*shard, caf::exit_reason::user_shutdown);
  return rc;
}

}  // namespace agentgraph::memory_writer

int main(int argc, char** argv) {
  return agentgraph::memory_writer::run(argc, argv);
}
