// The kill -9 clause of the task journal contract (journal_contract.hpp
// includes it): a writer process (tests/integration/journal_writer.cpp)
// accepts tasks and prints each id after accept returned, as a gateway
// acknowledges a task; it is killed with SIGKILL at a random moment, and
// every id it printed must be in the journal, whole.
#pragma once

#include <doctest/doctest.h>

#include <map>
#include <random>
#include <string>
#include <vector>

#include "writer_process.hpp"

namespace agentgraph::journal_contract {

// Must match the payload tests/integration/journal_writer.cpp accepts for
// task PREFIX-i.
inline std::vector<uint8_t> journal_writer_payload(const std::string& id) {
  auto i = std::stoull(id.substr(id.rfind('-') + 1));
  auto s = std::string(16 * 1024, static_cast<char>('a' + i % 26)) + id;
  return {s.begin(), s.end()};
}

// Three rounds, each a new writer incarnation (epoch round + 1) with its
// own ids: let it accept some tasks, SIGKILL it, reopen, and check that every
// acknowledged task is stored whole and open, in acknowledgement order, and
// that at most the one accept in flight per round was stored besides.
inline void kill_9_loses_no_acknowledged_task(const journal_factory& f) {
  std::mt19937 rng{std::random_device{}()};
  std::vector<std::string> acked;
  for (int round = 0; round < 3; ++round) {
    std::vector<std::string> args{AGENTGRAPH_BINARY_DIR "/tests/journal_writer",
                                  "r" + std::to_string(round), std::to_string(round + 1)};
    args.insert(args.end(), f.writer_args.begin(), f.writer_args.end());
    agentgraph_test::writer_process w{std::move(args)};
    auto lines = w.read_lines(10);
    auto tail = w.kill_9_and_drain(rng);
    lines.insert(lines.end(), tail.begin(), tail.end());
    acked.insert(acked.end(), lines.begin(), lines.end());
    f.settle_after_kill();
    auto j = open_ok(f);
    for (const auto& id : lines) {
      auto r = get_ok(*j, id);
      CHECK(r.state == task_state::open);
      CHECK(r.owner == "writer");
      CHECK(r.owner_epoch == static_cast<uint64_t>(round + 1));
      CHECK(r.target == "planner");
      CHECK((r.payload == journal_writer_payload(id)));
    }
    // open_of holds every acknowledged task in the order acknowledged, plus
    // at most one unacknowledged accept per killed writer.
    auto stored = ids_of(all_open_of(*j, "writer", j->limits().list_max));
    std::map<std::string, size_t> position;
    for (size_t i = 0; i < stored.size(); ++i)
      position[stored[i]] = i;
    CHECK(stored.size() >= acked.size());
    CHECK(stored.size() <= acked.size() + static_cast<size_t>(round + 1));
    size_t last = 0;
    for (size_t i = 0; i < acked.size(); ++i) {
      auto it = position.find(acked[i]);
      REQUIRE_MESSAGE(it != position.end(), "acknowledged task '" << acked[i] << "' is lost");
      CHECK((i == 0 || it->second > last));
      last = it->second;
    }
  }
}

}  // namespace agentgraph::journal_contract
