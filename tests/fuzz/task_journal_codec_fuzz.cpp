// Fuzz target: the bytes a task journal holds for a task and for its
// answer (actors/host/node/task_journal_codec.hpp) are read back from a
// file anyone may edit. Any bytes must decode to an error or to a value
// within the codec's promises (a string agent and input; an HTTP status in
// 100-599 with a body), and what decodes must encode and decode again to
// the same task or answer.
//
// Input: the first byte splits the rest into the payload bytes and the
// result bytes.
#include <cstdint>
#include <cstdlib>

#include "actors/host/node/task_journal_codec.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace agentgraph;
  if (size == 0)
    return 0;
  const size_t split = std::min<size_t>(data[0], size - 1);
  journal_record r;
  r.task_id = "fuzz";
  r.payload.assign(data + 1, data + 1 + split);
  r.result.assign(data + 1 + split, data + size);
  if (auto task = journal_task_of(r)) {
    journal_record again;
    again.task_id = "fuzz";
    again.payload = journal_payload(task->first, task->second);
    auto back = journal_task_of(again);
    if (!back || back->first != task->first || back->second.input != task->second.input
        || back->second.context.to_json() != task->second.context.to_json())
      std::abort();
  }
  if (auto answer = journal_answer_of(r)) {
    if (answer->first < 100 || answer->first > 599)
      std::abort();
    journal_record again;
    again.task_id = "fuzz";
    again.result = journal_answer(answer->first, answer->second);
    auto back = journal_answer_of(again);
    if (!back || back->first != answer->first
        || back->second.to_json() != answer->second.to_json())
      std::abort();
  }
  return 0;
}
