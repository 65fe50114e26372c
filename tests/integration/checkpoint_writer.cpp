// A process that puts checkpoints in a loop until it is killed, for the
// kill -9 clause of the checkpoint contract (tests/unit/checkpoint_contract.hpp).
// It resumes from the thread's latest checkpoint, like a restarted workflow,
// and prints each new id on stdout after put returned (durable).
//
//   checkpoint_writer THREAD sqlite PATH
//   checkpoint_writer THREAD postgres URL SCHEMA
#include <cstdio>
#include <string>

#include "runtime/checkpoint/checkpoint_store.hpp"
#include "runtime/error.hpp"

namespace agentgraph::checkpoint_writer {

// A bound on the loop, far above what the test waits for.
constexpr uint64_t puts_max = 100'000;

caf::expected<std::unique_ptr<checkpoint_store>> open(int argc, char** argv) {
  std::string kind = argv[2];
  if (kind == "sqlite" && argc == 4)
    return open_checkpoint_store(std::string{"sqlite:"} + argv[3]);
  if (kind == "postgres" && argc == 5)
    return open_checkpoint_store(argv[3], {}, argv[4]);
  return make_error(errc::invalid_argument, "usage: checkpoint_writer THREAD sqlite PATH | "
                                            "THREAD postgres URL SCHEMA");
}

int run(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr, "usage: checkpoint_writer THREAD sqlite PATH | THREAD postgres URL SCHEMA\n");
    return 2;
  }
  auto store = open(argc, argv);
  if (!store) {
    std::fprintf(stderr, "checkpoint_writer: %s\n", describe(store.error()).c_str());
    return 1;
  }
  checkpoint c;
  c.thread_id = argv[1];
  if (auto latest = (*store)->latest(c.thread_id)) {
    c.parent_id = latest->checkpoint_id;
    c.step = latest->step;
  } else if (errc_of(latest.error()) != errc::not_found) {
    std::fprintf(stderr, "checkpoint_writer: %s\n", describe(latest.error()).c_str());
    return 1;
  }
  for (uint64_t i = 0; i < puts_max; ++i) {
    ++c.step;
    c.state = Value::object();
    c.state["step"] = Value{static_cast<long long>(c.step)};
    // Must match writer_payload() in checkpoint_contract.hpp.
    c.state["payload"] = Value{std::string(64 * 1024, static_cast<char>('a' + c.step % 26))
                               + std::to_string(c.step)};
    auto id = (*store)->put(c);
    if (!id) {
      std::fprintf(stderr, "checkpoint_writer: %s\n", describe(id.error()).c_str());
      return 1;
    }
    std::printf("%llu\n", static_cast<unsigned long long>(*id));
    std::fflush(stdout);
    c.parent_id = *id;
  }
  return 0;
}

}  // namespace agentgraph::checkpoint_writer

int main(int argc, char** argv) {
  return agentgraph::checkpoint_writer::run(argc, argv);
}
