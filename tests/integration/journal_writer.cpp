// A process that accepts tasks into a task journal in a loop until it is
// killed, for the kill -9 clause of the journal contract
// (tests/unit/journal_contract_kill.hpp). Like a gateway, it prints each task
// id on stdout only after accept returned (durable): every id printed must
// be in the journal after the kill.
//
//   journal_writer PREFIX EPOCH sqlite PATH
//   journal_writer PREFIX EPOCH postgres URL SCHEMA
//
// Tasks are PREFIX-0, PREFIX-1, ... owned by "writer" at EPOCH, with a
// payload derived from the id (journal_writer_payload in the contract).
#include <cstdio>
#include <string>

#include "runtime/error.hpp"
#include "runtime/journal/task_journal.hpp"

namespace agentgraph::journal_writer {

// A bound on the loop, far above what the test waits for.
constexpr uint64_t accepts_max = 20'000;
constexpr const char* usage =
  "usage: journal_writer PREFIX EPOCH sqlite PATH | PREFIX EPOCH postgres URL SCHEMA";

caf::expected<std::unique_ptr<task_journal>> open(int argc, char** argv) {
  journal_limits limits;
  limits.open_max = 100'000;  // every round's tasks stay open
  std::string kind = argv[3];
  if (kind == "sqlite" && argc == 5)
    return open_task_journal(std::string{"sqlite:"} + argv[4], limits);
  if (kind == "postgres" && argc == 6)
    return open_task_journal(argv[4], limits, argv[5]);
  return make_error(errc::invalid_argument, usage);
}

int run(int argc, char** argv) {
  if (argc < 5) {
    std::fprintf(stderr, "%s\n", usage);
    return 2;
  }
  auto journal = open(argc, argv);
  if (!journal) {
    std::fprintf(stderr, "journal_writer: %s\n", describe(journal.error()).c_str());
    return 1;
  }
  journal_record r;
  r.target = "planner";
  r.owner = "writer";
  r.owner_epoch = std::stoull(argv[2]);
  for (uint64_t i = 0; i < accepts_max; ++i) {
    r.task_id = std::string{argv[1]} + "-" + std::to_string(i);
    // Must match journal_writer_payload() in journal_contract_kill.hpp.
    std::string payload = std::string(16 * 1024, static_cast<char>('a' + i % 26)) + r.task_id;
    r.payload.assign(payload.begin(), payload.end());
    auto out = (*journal)->accept(r);
    if (!out || !out->fresh) {
      std::fprintf(stderr, "journal_writer: %s\n",
                   out ? "task id already taken" : describe(out.error()).c_str());
      return 1;
    }
    std::printf("%s\n", r.task_id.c_str());
    std::fflush(stdout);
  }
  return 0;
}

}  // namespace agentgraph::journal_writer

int main(int argc, char** argv) {
  return agentgraph::journal_writer::run(argc, argv);
}
