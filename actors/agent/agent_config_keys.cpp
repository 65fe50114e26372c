#include "actors/agent/agent_config_keys.hpp"

#include "actors/placement_key.hpp"

namespace agentgraph {

using namespace std::chrono_literals;

// The group strategies in the order the `strategy` key lists them: the
// default first.
constexpr group_strategy group_strategies[] = {group_strategy::least_loaded,
                                               group_strategy::round_robin,
                                               group_strategy::consistent_hash};

void assign(agent_role& f, const config_value& v) {
  f = enum_from(agent_roles, v);
}

void assign(group_strategy& f, const config_value& v) {
  f = enum_from(group_strategies, v);
}

const std::vector<field<agent_config>>& agent_fields() {
  static const auto fields = [] {
    using S = agent_config;
    const S d;
    return std::vector<field<S>>{
        bind(enum_key("role", to_string(d.role), enum_words(agent_roles),
                      "Role preset; sets the temperature unless temperature is given."),
             &S::role),
        bind(string_key("system_prompt", d.system_prompt,
                        "System prompt (one line; the file format has no line continuation)."),
             &S::system_prompt),
        bind(string_key("provider", d.provider, "Name of the [provider.<name>] section to use."),
             &S::provider),
        bind(string_key("model", d.model, "Model name passed to the provider."), &S::model),
        bind(list_key("fallback",
                      "Providers tried in order when `provider` fails after its retries, has "
                      "its circuit open or is overloaded, e.g. openrouter, local. Each uses its "
                      "own `model` key when set."),
             &S::fallback),
        bind(bool_key("llm_cache", d.llm_cache,
                      "Answer exactly repeated model requests (same model, messages, tools, "
                      "temperature, max_tokens) from the multi-level cache ([cache]); a hit "
                      "costs no tokens. Off by default: a cached answer freezes one sample."),
             &S::llm_cache),
        bind(duration_key("llm_cache_ttl", d.llm_cache_ttl, 1s, 24h * 30,
                          "Lifetime of a cached model answer (Redis caps it at "
                          "cache.redis_ttl_max)."),
             &S::llm_cache_ttl),
        bind(uint_key("llm_cache_entries_max", d.llm_cache_entries_max, 1, 1'000'000,
                      "Model answers the agent's own cache level (L1) keeps."),
             &S::llm_cache_entries_max),
        bind(unset_by_default(double_key("temperature", 0.5, 0.0, 2.0,
                                         "Sampling temperature; unset: the role's preset.")),
             &S::temperature),
        bind(int_key("max_tokens", d.max_tokens, 1, 1'000'000,
                     "Most tokens the model may generate per call."),
             &S::max_tokens),
        bind(list_key("tools", "Names of [tool.<name>] sections the agent may call."), &S::tools),
        bind(list_key("subscribe",
                      "Topics the agent subscribes to: a message published to one (the "
                      "gateway's POST /v1/topics/<topic>, a publish tool, "
                      "runtime_client::publish) on any node reaches it as a task (input: the "
                      "message; context: {topic, message}), whose answer is dropped. 1-64 of "
                      "a-z 0-9 _ . - each."),
             &S::subscribe),
        bind(string_key("memory", d.memory,
                        "Name of the [memory.<name>] section to recall from and store to; "
                        "empty: none."),
             &S::memory),
        bind(uint_key("memory_recall_k", d.memory_recall_k, 0, 100,
                      "Memory entries recalled into the prompt per task."),
             &S::memory_recall_k),
        bind(uint_key("history_window", d.history_window, 0, 1000,
                      "Conversation turns (user + assistant) kept between tasks."),
             &S::history_window),
        bind(duration_key("request_timeout", d.request_timeout, 1ms, 1h,
                          "Deadline of each model call and each tool call."),
             &S::request_timeout),
        bind(uint_key("max_tool_iterations", d.max_tool_iterations, 0, 100,
                      "Tool rounds per task; one more fails the task with limit_exceeded."),
             &S::max_tool_iterations),
        bind(uint_key("tasks_in_flight_max", d.tasks_in_flight_max, 1, 1024,
                      "Tasks accepted at once; more are rejected with overloaded."),
             &S::tasks_in_flight_max),
        bind(placement_key(d.placement), &S::placement),
    };
  }();
  return fields;
}

const std::vector<field<group_config>>& group_fields() {
  static const auto fields = [] {
    using S = group_config;
    const S d;
    return std::vector<field<S>>{
        bind(required_key(list_key("agents",
                                   "Member agents; the group's name is addressed like an "
                                   "agent's (run --agent, the gateway, workflows).")),
             &S::agents),
        bind(enum_key("strategy", to_string(d.strategy), enum_words(group_strategies),
                      "least_loaded: the member with the fewest of the group's tasks in "
                      "flight (in a cluster, plus its node's reported load); round_robin: "
                      "members in turn; consistent_hash: sticky by the task's context "
                      "\"session\" (else its id). In a cluster a member is every instance "
                      "of that agent on any node. An overloaded member passes the task to "
                      "the next."),
             &S::strategy),
    };
  }();
  return fields;
}

}  // namespace agentgraph
