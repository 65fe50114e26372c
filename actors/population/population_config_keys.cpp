#include "actors/population/population_config_keys.hpp"

#include <string_view>

#include "actors/agent/agent_config_keys.hpp"

namespace agentgraph {

using namespace std::chrono_literals;

void assign(population_durability& f, const config_value& v) {
  f = enum_from(population_durabilities, v);
}

namespace {

// An agent key lifted onto the template member. `subscribe` is left out: a
// topic message is a task for one agent, and a population has no instance
// to give it to until a key is named.
void add_template_keys(std::vector<field<population_config>>& out) {
  for (const auto& f : agent_fields()) {
    if (f.spec.name == "subscribe")
      continue;
    auto assign_agent = f.assign;
    out.push_back(field<population_config>{
      f.spec, [assign_agent](population_config& p, const config_value& v) {
        assign_agent(p.agent, v);
      }});
  }
}

}  // namespace

const std::vector<field<population_config>>& population_fields() {
  static const auto fields = [] {
    using S = population_config;
    const S d;
    std::vector<field<S>> out;
    add_template_keys(out);
    std::vector<field<S>> own{
        bind(uint_key("active_max", d.active_max, 1, 10'000'000,
                      "Keys with a live agent instance at once; activating one more "
                      "passivates the least recently used idle key, or is overloaded when "
                      "all are busy."),
             &S::active_max),
        bind(duration_key("idle_timeout", d.idle_timeout, 10ms, 24h * 30,
                          "A key without a task for this long is passivated (its state "
                          "saved, its instance stopped)."),
             &S::idle_timeout),
        bind(uint_key("waiting_max", d.waiting_max, 1, 10'000,
                      "Tasks that may wait for one key while it activates or passivates; "
                      "more are overloaded."),
             &S::waiting_max),
        bind(uint_key("activating_max", d.activating_max, 1, 100'000,
                      "Keys being activated at once (their saved state being read); more "
                      "are overloaded."),
             &S::activating_max),
        bind(uint_key("tasks_max", d.tasks_max, 1, 10'000'000,
                      "Tasks admitted and not yet answered over all keys (waiting, "
                      "running, answers waiting for their key's save); more are "
                      "overloaded. One key's running tasks are bounded by "
                      "tasks_in_flight_max."),
             &S::tasks_max),
        bind(enum_key("durability", to_string(d.durability),
                      enum_words(population_durabilities),
                      "task: a key's state is saved after every task, before its answer "
                      "goes out (survives kill -9); passivation: only when the key is "
                      "passivated (faster; a crash loses what active keys did)."),
             &S::durability),
        bind(path_key("store_path", d.store_path,
                      "SQLite file of the keys' saved states; empty: "
                      "<runtime.data_dir>/populations.sqlite. Not with store_url."),
             &S::store_path),
        bind(string_key("store_url", d.store_url,
                        "PostgreSQL URL of the keys' saved states, shared by a cluster so "
                        "a key can move between nodes. Not with store_path."),
             &S::store_url),
        bind(list_key("memory_scopes",
                      "Memory scopes every instance recalls from besides its own key's "
                      "(entries stored with metadata scope = one of them), e.g. world."),
             &S::memory_scopes),
    };
    for (auto& f : own)
      out.push_back(std::move(f));
    return out;
  }();
  return fields;
}

}  // namespace agentgraph
