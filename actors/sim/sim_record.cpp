// The run record's trace and the invariants a run is checked against
// (sim_record.hpp).
#include "actors/sim/sim_record.hpp"

#include <cstdio>
#include <utility>

namespace agentgraph::sim {

namespace sim_record_detail {

std::string fmt_ms(double t) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3f", t);
  return buf;
}

}  // namespace sim_record_detail

void run_record::line(double t_ms, const std::string& what) {
  auto text = sim_record_detail::fmt_ms(t_ms) + " " + what;
  for (unsigned char c : text) {
    trace_hash ^= c;
    trace_hash *= 0x100000001b3ull;
  }
  trace_hash ^= '\n';
  trace_hash *= 0x100000001b3ull;
  ++trace_lines;
  if (trace.size() < trace_lines_max)
    trace.push_back(std::move(text));
}

std::vector<std::string> violations(const run_record& rec) {
  std::vector<std::string> out;
  uint64_t lost = 0, twice = 0, split = 0;
  for (const auto& t : rec.tasks) {
    lost += t.outcome == "lost";
    // Without a journal nothing promises one answer per id: a task asked
    // again elsewhere runs again and answers again.
    twice += rec.journaled && t.answers > 1;
  }
  for (const auto& s : rec.samples)
    split += s.split_brain;
  if (lost > 0)
    out.push_back(std::to_string(lost) + " task(s) lost");
  if (twice > 0)
    out.push_back(std::to_string(twice) + " task(s) answered twice");
  if (split > 0)
    out.push_back("split brain in " + std::to_string(split) + " sample(s)");
  const auto& k = rec.keys;
  const std::pair<uint64_t, const char*> key_checks[] = {
    {k.saves_superseded, "key save(s) accepted under a superseded claim"},
    {k.saves_stale, "key save(s) not based on the key's previous state (a lost update)"},
    {k.saves_undecodable, "key state(s) saved that do not decode"},
    {k.tasks_applied_twice, "task turn(s) added to a key twice that ran once"}};
  for (const auto& [n, what] : key_checks)
    if (n > 0)
      out.push_back(std::to_string(n) + " " + what);
  return out;
}

}  // namespace agentgraph::sim
