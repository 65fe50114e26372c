// Every node config key reaches the struct field its component reads, and
// the cross-section checks reject dangling references and cycles. Over 600
// lines because it holds one row per config key: the all-keys check needs
// every row in one table, so it grows with the schema.
#include <doctest/doctest.h>

#include <functional>
#include <set>

#include "actors/host/node_config.hpp"
#include "runtime/config/config_resolve.hpp"
#include "runtime/error.hpp"

using namespace agentgraph;
using namespace std::chrono_literals;

namespace config_binding_test {

template <class T>
const T& named(const std::vector<T>& items, const std::string& name) {
  for (const auto& x : items)
    if (x.name == name)
      return x;
  FAIL("no entry named " << name);
  return items.front();
}

struct row {
  std::string section;
  std::string key;
  std::string value;
  std::function<void(const node_config&)> check;
};

using C = const node_config&;

// One row per key, each set to a non-default value. Sections appear in the
// generated file in the order of their first row.
std::vector<row> all_keys() {
  auto agent = [](C c) -> const agent_config& { return named(c.agents, "planner"); };
  auto files = [](C c) -> const tool_config& { return named(c.tools, "files"); };
  auto web = [](C c) -> const tool_config& { return named(c.tools, "web"); };
  auto m1 = [](C c) -> const memory_config& { return named(c.memories, "m1"); };
  auto crowd = [](C c) -> const population_config& { return named(c.populations, "crowd"); };
  auto p2 = [](C c) -> const provider_config& { return named(c.providers, "p2"); };
  return {
      {"runtime", "scheduler_threads", "7", [](C c) { CHECK(c.runtime.scheduler_threads == 7); }},
      {"runtime", "scheduler_policy", "stealing",
       [](C c) { CHECK(c.runtime.scheduler.policy == scheduler_policy::stealing); }},
      {"runtime", "scheduler_aggressive_poll_attempts", "5000",
       [](C c) { CHECK(c.runtime.scheduler.aggressive_poll_attempts == 5000); }},
      {"runtime", "scheduler_aggressive_steal_interval", "11",
       [](C c) { CHECK(c.runtime.scheduler.aggressive_steal_interval == 11); }},
      {"runtime", "scheduler_moderate_poll_attempts", "40",
       [](C c) { CHECK(c.runtime.scheduler.moderate_poll_attempts == 40); }},
      {"runtime", "scheduler_moderate_steal_interval", "9",
       [](C c) { CHECK(c.runtime.scheduler.moderate_steal_interval == 9); }},
      {"runtime", "scheduler_moderate_sleep_us", "75",
       [](C c) { CHECK(c.runtime.scheduler.moderate_sleep_us == 75); }},
      {"runtime", "scheduler_relaxed_steal_interval", "3",
       [](C c) { CHECK(c.runtime.scheduler.relaxed_steal_interval == 3); }},
      {"runtime", "scheduler_relaxed_sleep", "20ms",
       [](C c) { CHECK(c.runtime.scheduler.relaxed_sleep == 20ms); }},
      {"runtime", "log_level", "debug",
       [](C c) { CHECK(c.runtime.log_level == log_severity::debug); }},
      {"runtime", "data_dir", "data", [](C c) { CHECK(c.runtime.data_dir == "/cfg/dir/data"); }},
      {"runtime", "prices", "prices.ini",
       [](C c) { CHECK(c.runtime.prices == "/cfg/dir/prices.ini"); }},
      {"runtime", "checkpoint_path", "cp/flows.db",
       [](C c) { CHECK(c.runtime.checkpoint_path == "/cfg/dir/cp/flows.db"); }},
      {"runtime", "checkpoint_keep_last", "7",
       [](C c) { CHECK(c.runtime.checkpoint_keep_last == 7); }},
      {"supervisor", "restarts_max", "9", [](C c) { CHECK(c.supervisor.restarts_max == 9); }},
      {"supervisor", "restart_window", "2m",
       [](C c) { CHECK(c.supervisor.restart_window == 120s); }},
      {"supervisor", "heartbeat_interval", "250ms",
       [](C c) { CHECK(c.supervisor.heartbeat_interval == 250ms); }},
      {"supervisor", "heartbeat_misses_max", "4",
       [](C c) { CHECK(c.supervisor.heartbeat_misses_max == 4); }},
      {"supervisor", "request_timeout", "90s",
       [](C c) { CHECK(c.supervisor.request_timeout == 90s); }},
      {"node", "listen", "0.0.0.0", [](C c) { CHECK(c.node.listen == "0.0.0.0"); }},
      {"node", "port", "0", [](C c) { CHECK(c.node.port == 0); }},
      {"node", "auth_token_env", "NODE_TOKEN",
       [](C c) { CHECK(c.node.auth_token_env == "NODE_TOKEN"); }},
      {"node", "http_threads", "3", [](C c) { CHECK(c.node.http_threads == 3); }},
      {"node", "connections_max", "123", [](C c) { CHECK(c.node.connections_max == 123); }},
      {"node", "header_bytes_max", "4096", [](C c) { CHECK(c.node.header_bytes_max == 4096); }},
      {"node", "header_timeout", "3s", [](C c) { CHECK(c.node.header_timeout == 3s); }},
      {"node", "body_timeout", "4s", [](C c) { CHECK(c.node.body_timeout == 4s); }},
      {"node", "keep_alive_timeout", "5ms",
       [](C c) { CHECK(c.node.keep_alive_timeout == 5ms); }},
      {"node", "send_timeout", "6s", [](C c) { CHECK(c.node.send_timeout == 6s); }},
      {"node", "bodies_bytes_max", "65536",
       [](C c) { CHECK(c.node.bodies_bytes_max == 65536); }},
      {"node", "stream_buffer_bytes", "8192",
       [](C c) { CHECK(c.node.stream_buffer_bytes == 8192); }},
      {"node", "tasks_in_flight_max", "17", [](C c) { CHECK(c.node.tasks_in_flight_max == 17); }},
      {"node", "tasks_kept", "5", [](C c) { CHECK(c.node.tasks_kept == 5); }},
      {"node", "task_events_max", "64", [](C c) { CHECK(c.node.task_events_max == 64); }},
      {"node", "body_bytes_max", "4096", [](C c) { CHECK(c.node.body_bytes_max == 4096); }},
      {"node", "health_ping_timeout", "250ms",
       [](C c) { CHECK(c.node.health_ping_timeout == 250ms); }},
      {"node", "shutdown_deadline", "2m", [](C c) { CHECK(c.node.shutdown_deadline == 120s); }},
      {"cache", "l2_entries_max", "99", [](C c) { CHECK(c.cache.l2_entries_max == 99); }},
      {"cache", "l2_bytes_max", "4096", [](C c) { CHECK(c.cache.l2_bytes_max == 4096); }},
      {"cache", "redis_url", "redis://127.0.0.1:6390/2",
       [](C c) { CHECK(c.cache.redis_url == "redis://127.0.0.1:6390/2"); }},
      {"cache", "redis_timeout", "250ms", [](C c) { CHECK(c.cache.redis_timeout == 250ms); }},
      {"cache", "redis_key_prefix", "ag-test:",
       [](C c) { CHECK(c.cache.redis_key_prefix == "ag-test:"); }},
      {"cache", "redis_ttl_max", "2h", [](C c) { CHECK(c.cache.redis_ttl_max == 7200s); }},
      {"cache", "redis_value_bytes_max", "512",
       [](C c) { CHECK(c.cache.redis_value_bytes_max == 512); }},
      {"cache", "redis_queue_max", "16", [](C c) { CHECK(c.cache.redis_queue_max == 16); }},
      {"cache", "redis_breaker_failures", "7",
       [](C c) { CHECK(c.cache.redis_breaker_failures == 7); }},
      {"cache", "redis_breaker_cooldown", "3s",
       [](C c) { CHECK(c.cache.redis_breaker_cooldown == 3s); }},
      {"provider.p1", "kind", "scripted",
       [](C c) { CHECK(named(c.providers, "p1").kind == provider_kind::scripted); }},
      {"provider.p1", "rules", "rules/p1.rules",
       [](C c) { CHECK(named(c.providers, "p1").rules == "/cfg/dir/rules/p1.rules"); }},
      {"provider.p1", "record", "runs/p1.sqlite",
       [](C c) { CHECK(named(c.providers, "p1").record == "/cfg/dir/runs/p1.sqlite"); }},
      {"provider.p1", "record_queue_max", "77",
       [](C c) { CHECK(named(c.providers, "p1").record_queue_max == 77); }},
      {"provider.p2", "kind", "openai",
       [](C c) { CHECK(named(c.providers, "p2").kind == provider_kind::openai); }},
      {"provider.p2", "base_url", "http://127.0.0.1:9/v1",
       [=](C c) { CHECK(p2(c).base_url == "http://127.0.0.1:9/v1"); }},
      {"provider.p2", "api_key", "k-123", [=](C c) { CHECK(p2(c).api_key == "k-123"); }},
      {"provider.p2", "api_key_env", "MY_KEY", [=](C c) { CHECK(p2(c).api_key_env == "MY_KEY"); }},
      {"provider.p2", "model", "gpt-x", [=](C c) { CHECK(p2(c).model == "gpt-x"); }},
      {"provider.p2", "max_tokens_field", "max_tokens",
       [=](C c) { CHECK(p2(c).max_tokens_field == "max_tokens"); }},
      {"provider.p2", "timeout", "7s", [=](C c) { CHECK(p2(c).timeout == 7s); }},
      {"provider.p2", "connect_timeout", "2s", [=](C c) { CHECK(p2(c).connect_timeout == 2s); }},
      {"provider.p2", "stream_idle_timeout", "3s",
       [=](C c) { CHECK(p2(c).stream_idle_timeout == 3s); }},
      {"provider.p2", "request_deadline", "50s",
       [=](C c) { CHECK(p2(c).request_deadline == 50s); }},
      {"provider.p2", "retries_max", "4", [=](C c) { CHECK(p2(c).retries_max == 4); }},
      {"provider.p2", "retry_delay", "100ms", [=](C c) { CHECK(p2(c).retry_delay == 100ms); }},
      {"provider.p2", "retry_delay_max", "3s", [=](C c) { CHECK(p2(c).retry_delay_max == 3s); }},
      {"provider.p2", "retry_after_max", "20s",
       [=](C c) { CHECK(p2(c).retry_after_max == 20s); }},
      {"provider.p2", "retry_jitter", "full", [=](C c) { CHECK(p2(c).retry_jitter == jitter_mode::full); }},
      {"provider.p2", "in_flight_max", "8", [=](C c) { CHECK(p2(c).in_flight_max == 8); }},
      {"provider.p2", "waiting_max", "9", [=](C c) { CHECK(p2(c).waiting_max == 9); }},
      {"provider.p2", "requests_per_minute", "600",
       [=](C c) { CHECK(p2(c).requests_per_minute == 600); }},
      {"provider.p2", "tokens_per_minute", "90000",
       [=](C c) { CHECK(p2(c).tokens_per_minute == 90000); }},
      {"provider.p2", "rate_wait_max", "4s", [=](C c) { CHECK(p2(c).rate_wait_max == 4s); }},
      {"provider.p2", "breaker_failures", "3", [=](C c) { CHECK(p2(c).breaker_failures == 3); }},
      {"provider.p2", "breaker_failure_ratio", "0.75",
       [=](C c) { CHECK(p2(c).breaker_failure_ratio == doctest::Approx(0.75)); }},
      {"provider.p2", "breaker_window", "30", [=](C c) { CHECK(p2(c).breaker_window == 30); }},
      {"provider.p2", "breaker_window_min", "6",
       [=](C c) { CHECK(p2(c).breaker_window_min == 6); }},
      {"provider.p2", "breaker_cooldown", "2s", [=](C c) { CHECK(p2(c).breaker_cooldown == 2s); }},
      {"provider.p2", "breaker_cooldown_max", "30s",
       [=](C c) { CHECK(p2(c).breaker_cooldown_max == 30s); }},
      {"provider.p2", "breaker_probes", "2", [=](C c) { CHECK(p2(c).breaker_probes == 2); }},
      {"provider.p2", "embed_batch_window", "20ms",
       [=](C c) { CHECK(p2(c).embed_batch_window == 20ms); }},
      {"provider.p2", "embed_batch_inputs_max", "32",
       [=](C c) { CHECK(p2(c).embed_batch_inputs_max == 32); }},
      {"provider.p3", "kind", "anthropic",
       [](C c) { CHECK(named(c.providers, "p3").kind == provider_kind::anthropic); }},
      {"provider.p3", "anthropic_version", "2024-01-01",
       [](C c) { CHECK(named(c.providers, "p3").anthropic_version == "2024-01-01"); }},
      {"provider.p4", "kind", "openrouter",
       [](C c) { CHECK(named(c.providers, "p4").kind == provider_kind::openrouter); }},
      {"provider.p4", "openrouter_referer", "https://example.org",
       [](C c) { CHECK(named(c.providers, "p4").openrouter_referer == "https://example.org"); }},
      {"provider.p4", "openrouter_title", "agentgraph tests",
       [](C c) { CHECK(named(c.providers, "p4").openrouter_title == "agentgraph tests"); }},
      {"tool.files", "kind", "file_read", [=](C c) { CHECK(files(c).kind == "file_read"); }},
      {"tool.files", "cache", "yes", [=](C c) { CHECK(files(c).cache); }},
      {"tool.files", "cache_ttl", "10m", [=](C c) { CHECK(files(c).cache_ttl == 600s); }},
      {"tool.files", "cache_entries_max", "77",
       [=](C c) { CHECK(files(c).cache_entries_max == 77); }},
      {"tool.files", "root", "docs/../docs", [=](C c) { CHECK(files(c).root == "/cfg/dir/docs"); }},
      {"tool.files", "file_bytes_max", "2048",
       [=](C c) { CHECK(files(c).file_bytes_max == 2048); }},
      {"tool.web", "kind", "http_get", [=](C c) { CHECK(web(c).kind == "http_get"); }},
      {"tool.web", "allowed_hosts", "example.com, api.example.org",
       [=](C c) {
         CHECK(web(c).allowed_hosts == std::vector<std::string>{"example.com", "api.example.org"});
       }},
      {"tool.web", "connect_timeout", "1500ms",
       [=](C c) { CHECK(web(c).connect_timeout == 1500ms); }},
      {"tool.web", "timeout", "20s", [=](C c) { CHECK(web(c).timeout == 20s); }},
      {"tool.web", "body_bytes_max", "4096", [=](C c) { CHECK(web(c).body_bytes_max == 4096); }},
      {"tool.ask_helper", "agent", "helper",
       [](C c) { CHECK(named(c.tools, "ask_helper").agent == "helper"); }},
      {"tool.ask_helper", "kind", "agent",
       [](C c) { CHECK(named(c.tools, "ask_helper").kind == "agent"); }},
      {"tool.announce", "kind", "publish",
       [](C c) { CHECK(named(c.tools, "announce").kind == "publish"); }},
      {"tool.announce", "topics", "news, alerts.eu",
       [](C c) {
         CHECK(named(c.tools, "announce").topics == std::vector<std::string>{"news", "alerts.eu"});
       }},
      {"memory.m1", "max_entries", "500", [=](C c) { CHECK(m1(c).max_entries == 500); }},
      {"memory.m1", "embedding_model", "hash-128",
       [=](C c) { CHECK(m1(c).embedding_model == "hash-128"); }},
      {"memory.m1", "embedding_dimensions", "128",  // hash-128 below: its own length or 0
       [=](C c) { CHECK(m1(c).embedding_dimensions == 128); }},
      {"memory.m1", "embedding_timeout", "3s", [=](C c) { CHECK(m1(c).embedding_timeout == 3s); }},
      {"memory.m1", "embedding_attempts", "5", [=](C c) { CHECK(m1(c).embedding_attempts == 5); }},
      {"memory.m1", "embedding_waiting_max", "77",
       [=](C c) { CHECK(m1(c).embedding_waiting_max == 77); }},
      {"memory.m1", "embedding_cache_entries", "99",
       [=](C c) { CHECK(m1(c).embedding_cache_entries == 99); }},
      {"memory.m1", "embedding_cache_ttl", "2h",
       [=](C c) { CHECK(m1(c).embedding_cache_ttl == 2h); }},
      {"memory.m1", "model_change", "refuse",
       [=](C c) { CHECK(m1(c).model_change == embedding_model_change::refuse); }},
      {"memory.m1", "reembed_inflight", "8", [=](C c) { CHECK(m1(c).reembed_inflight == 8); }},
      {"memory.m1", "embedding_input_bytes_max", "4096",
       [=](C c) { CHECK(m1(c).embedding_input_bytes_max == 4096); }},
      {"memory.m1", "similarity_threshold", "0.35",
       [=](C c) { CHECK(m1(c).similarity_threshold == doctest::Approx(0.35)); }},
      {"memory.m1", "cleanup_interval", "2m", [=](C c) { CHECK(m1(c).cleanup_interval == 120s); }},
      {"memory.m1", "retention", "hierarchical",
       [=](C c) { CHECK(m1(c).retention == retention_policy::hierarchical); }},
      {"memory.m1", "kind_limits", "fact:100, episode:50",
       [=](C c) {
         CHECK(m1(c).kind_limits ==
               std::map<std::string, uint32_t>{{"fact", 100}, {"episode", 50}});
       }},
      {"memory.m1", "exact_search_max", "10", [=](C c) { CHECK(m1(c).exact_search_max == 10); }},
      {"memory.m1", "exact_search_sparse", "false",
       [=](C c) { CHECK_FALSE(m1(c).exact_search_sparse); }},
      {"memory.m1", "snapshot_path", "/abs/m1.db",
       [=](C c) { CHECK(m1(c).snapshot_path == "/abs/m1.db"); }},
      {"memory.m1", "snapshot_interval", "45s",
       [=](C c) { CHECK(m1(c).snapshot_interval == 45s); }},
      {"memory.m1", "commit_window", "5ms", [=](C c) { CHECK(m1(c).commit_window == 5ms); }},
      {"memory.m1", "commit_batch_max", "64", [=](C c) { CHECK(m1(c).commit_batch_max == 64); }},
      {"memory.m1", "commit_waiting_max", "100",
       [=](C c) { CHECK(m1(c).commit_waiting_max == 100); }},
      {"memory.m1", "scope_entries_max", "25",
       [=](C c) { CHECK(m1(c).scope_entries_max == 25); }},
      {"memory.m2", "durability", "snapshot",
       [](C c) { CHECK(named(c.memories, "m2").durability == memory_durability::snapshot); }},
      {"memory.m2", "retention", "importance",
       [](C c) { CHECK(named(c.memories, "m2").retention == retention_policy::importance); }},
      {"memory.m2", "importance_half_life", "2h",
       [](C c) { CHECK(named(c.memories, "m2").importance_half_life == 7200s); }},
      // Copies in a cluster: the [cluster] rows below; m1 is pinned (one copy).
      {"memory.m2", "replicas", "3", [](C c) { CHECK(named(c.memories, "m2").replicas == 3); }},
      {"agent.planner", "role", "coding", [=](C c) { CHECK(agent(c).role == agent_role::coding); }},
      {"agent.planner", "system_prompt", "You plan. # kept: comments are full-line only",
       [=](C c) {
         CHECK(agent(c).system_prompt == "You plan. # kept: comments are full-line only");
       }},
      {"agent.planner", "provider", "p1", [=](C c) { CHECK(agent(c).provider == "p1"); }},
      {"agent.planner", "model", "big-model", [=](C c) { CHECK(agent(c).model == "big-model"); }},
      {"agent.planner", "llm_cache", "true", [=](C c) { CHECK(agent(c).llm_cache); }},
      {"agent.planner", "llm_cache_ttl", "10m",
       [=](C c) { CHECK(agent(c).llm_cache_ttl == std::chrono::minutes{10}); }},
      {"agent.planner", "llm_cache_entries_max", "99",
       [=](C c) { CHECK(agent(c).llm_cache_entries_max == 99); }},
      {"agent.planner", "fallback", "p2, p4",
       [=](C c) { CHECK(agent(c).fallback == std::vector<std::string>{"p2", "p4"}); }},
      {"agent.planner", "temperature", "1.25",
       [=](C c) { CHECK(agent(c).effective_temperature() == doctest::Approx(1.25)); }},
      {"agent.planner", "max_tokens", "2048", [=](C c) { CHECK(agent(c).max_tokens == 2048); }},
      {"agent.planner", "tools", "files, web, ask_helper",
       [=](C c) {
         CHECK(agent(c).tools == std::vector<std::string>{"files", "web", "ask_helper"});
       }},
      {"agent.planner", "memory", "m1", [=](C c) { CHECK(agent(c).memory == "m1"); }},
      {"agent.planner", "subscribe", "news, alerts.eu",
       [=](C c) { CHECK(agent(c).subscribe == std::vector<std::string>{"news", "alerts.eu"}); }},
      {"agent.planner", "memory_recall_k", "5", [=](C c) { CHECK(agent(c).memory_recall_k == 5); }},
      {"agent.planner", "history_window", "12", [=](C c) { CHECK(agent(c).history_window == 12); }},
      {"agent.planner", "request_timeout", "45s",
       [=](C c) { CHECK(agent(c).request_timeout == 45s); }},
      {"agent.planner", "max_tool_iterations", "9",
       [=](C c) { CHECK(agent(c).max_tool_iterations == 9); }},
      {"agent.planner", "tasks_in_flight_max", "32",
       [=](C c) { CHECK(agent(c).tasks_in_flight_max == 32); }},
      {"agent.helper", "provider", "p2",
       [](C c) { CHECK(named(c.agents, "helper").provider == "p2"); }},
      {"group.team", "agents", "planner, helper",
       [](C c) {
         CHECK(named(c.groups, "team").agents == std::vector<std::string>{"planner", "helper"});
       }},
      {"workflow.w1", "file", "flows/w1.json",
       [](C c) { CHECK(named(c.workflows, "w1").file == "/cfg/dir/flows/w1.json"); }},
      {"group.team", "strategy", "round_robin",
       [](C c) { CHECK(named(c.groups, "team").strategy == group_strategy::round_robin); }},
      // A placement other than any needs a [cluster] section; its own keys
      // are config_cluster_test.cpp's.
      {"cluster", "name", "prod", [](C c) { CHECK((c.cluster && c.cluster->name == "prod")); }},
      {"cluster", "seeds", "10.0.0.5:7400",
       [](C c) { CHECK((c.cluster && c.cluster->seeds.size() == 1)); }},
      {"cluster", "secret_env", "AG_BINDING_TEST_UNUSED",
       [](C c) { CHECK((c.cluster && c.cluster->secret_env == "AG_BINDING_TEST_UNUSED")); }},
      {"agent.planner", "placement", "n2", [=](C c) { CHECK(agent(c).placement == "n2"); }},
      {"tool.files", "placement", "n1", [=](C c) { CHECK(files(c).placement == "n1"); }},
      {"memory.m1", "placement", "n3", [=](C c) { CHECK(m1(c).placement == "n3"); }},
      // A population: every agent key but subscribe lands in the template.
      {"population.crowd", "role", "creative",
       [=](C c) { CHECK(crowd(c).agent.role == agent_role::creative); }},
      {"population.crowd", "system_prompt", "You are {{key}}.",
       [=](C c) { CHECK(crowd(c).agent.system_prompt == "You are {{key}}."); }},
      {"population.crowd", "provider", "p1", [=](C c) { CHECK(crowd(c).agent.provider == "p1"); }},
      {"population.crowd", "model", "small", [=](C c) { CHECK(crowd(c).agent.model == "small"); }},
      {"population.crowd", "fallback", "p2",
       [=](C c) { CHECK(crowd(c).agent.fallback == std::vector<std::string>{"p2"}); }},
      {"population.crowd", "llm_cache", "true", [=](C c) { CHECK(crowd(c).agent.llm_cache); }},
      {"population.crowd", "llm_cache_ttl", "5m",
       [=](C c) { CHECK(crowd(c).agent.llm_cache_ttl == std::chrono::minutes{5}); }},
      {"population.crowd", "llm_cache_entries_max", "7",
       [=](C c) { CHECK(crowd(c).agent.llm_cache_entries_max == 7); }},
      {"population.crowd", "temperature", "0.9",
       [=](C c) { CHECK(crowd(c).agent.temperature.value_or(0) == doctest::Approx(0.9)); }},
      {"population.crowd", "max_tokens", "77", [=](C c) { CHECK(crowd(c).agent.max_tokens == 77); }},
      {"population.crowd", "tools", "web",
       [=](C c) { CHECK(crowd(c).agent.tools == std::vector<std::string>{"web"}); }},
      {"population.crowd", "memory", "m1", [=](C c) { CHECK(crowd(c).agent.memory == "m1"); }},
      {"population.crowd", "memory_recall_k", "2",
       [=](C c) { CHECK(crowd(c).agent.memory_recall_k == 2); }},
      {"population.crowd", "history_window", "3",
       [=](C c) { CHECK(crowd(c).agent.history_window == 3); }},
      {"population.crowd", "request_timeout", "20s",
       [=](C c) { CHECK(crowd(c).agent.request_timeout == std::chrono::seconds{20}); }},
      {"population.crowd", "max_tool_iterations", "4",
       [=](C c) { CHECK(crowd(c).agent.max_tool_iterations == 4); }},
      {"population.crowd", "tasks_in_flight_max", "5",
       [=](C c) { CHECK(crowd(c).agent.tasks_in_flight_max == 5); }},
      {"population.crowd", "placement", "n1",
       [=](C c) { CHECK(crowd(c).agent.placement == "n1"); }},
      {"population.crowd", "active_max", "500", [=](C c) { CHECK(crowd(c).active_max == 500); }},
      {"population.crowd", "idle_timeout", "90s",
       [=](C c) { CHECK(crowd(c).idle_timeout == std::chrono::seconds{90}); }},
      {"population.crowd", "waiting_max", "9", [=](C c) { CHECK(crowd(c).waiting_max == 9); }},
      {"population.crowd", "activating_max", "99",
       [=](C c) { CHECK(crowd(c).activating_max == 99); }},
      {"population.crowd", "tasks_max", "77", [=](C c) { CHECK(crowd(c).tasks_max == 77); }},
      {"population.crowd", "durability", "passivation",
       [=](C c) { CHECK(crowd(c).durability == population_durability::passivation); }},
      {"population.crowd", "store_url", "postgresql://agent@127.0.0.1:5432/keys",
       [=](C c) { CHECK(crowd(c).store_url == "postgresql://agent@127.0.0.1:5432/keys"); }},
      {"population.crowd", "memory_scopes", "world, town",
       [=](C c) {
         CHECK(crowd(c).memory_scopes == std::vector<std::string>{"world", "town"});
       }},
  };
}

// Keys that may not be set together with a row of all_keys(), and the
// replay kind's keys (only for kind replay; every provider of all_keys()
// has another kind).
std::vector<row> exclusive_keys() {
  auto r1 = [](C c) -> const provider_config& { return named(c.providers, "r1"); };
  return {
      {"provider.r1", "kind", "replay", [=](C c) { CHECK(r1(c).kind == provider_kind::replay); }},
      {"provider.r1", "recording", "runs/p1.sqlite",
       [=](C c) { CHECK(r1(c).recording == "/cfg/dir/runs/p1.sqlite"); }},
      {"provider.r1", "on_miss", "scripted",
       [=](C c) { CHECK(r1(c).on_miss == replay_on_miss::scripted); }},
      {"provider.r1", "timing", "none", [=](C c) { CHECK(r1(c).timing == replay_timing::none); }},
      {"provider.r1", "speed", "2.5", [=](C c) { CHECK(r1(c).speed == doctest::Approx(2.5)); }},
      {"provider.r1", "recording_entries_max", "500",
       [=](C c) { CHECK(r1(c).recording_entries_max == 500); }},
      {"runtime", "checkpoint_url", "postgresql://agent@127.0.0.1:5432/flows",
       [](C c) { CHECK(c.runtime.checkpoint_url == "postgresql://agent@127.0.0.1:5432/flows"); }},
      {"population.solo", "provider", "p1",
       [](C c) { CHECK(named(c.populations, "solo").agent.provider == "p1"); }},
      {"population.solo", "store_path", "keys/solo.sqlite",
       [](C c) {
         CHECK(named(c.populations, "solo").store_path == "/cfg/dir/keys/solo.sqlite");
       }},
  };
}

std::string to_ini(const std::vector<row>& rows) {
  std::vector<std::string> order;
  for (const auto& r : rows)
    if (std::find(order.begin(), order.end(), r.section) == order.end())
      order.push_back(r.section);
  std::string text;
  for (const auto& s : order) {
    text += "[" + s + "]\n";
    for (const auto& r : rows)
      if (r.section == s)
        text += r.key + " = " + r.value + "\n";
  }
  return text;
}

// A minimal valid config plus `extra` lines appended at the end.
std::string minimal(const std::string& extra = {}) {
  return "[provider.scripted]\n[agent.a]\n" + extra;
}

std::string binding_error(const caf::expected<node_config>& r) {
  REQUIRE_FALSE(r);
  return error_context(r.error());
}

// a -> b -> d and a -> c -> d through agent tools: no cycle.
const std::string diamond =
    "[provider.scripted]\n"
    "[agent.a]\ntools = ask_b, ask_c\n"
    "[agent.b]\ntools = ask_d\n"
    "[agent.c]\ntools = ask_d\n"
    "[agent.d]\n"
    "[tool.ask_b]\nkind = agent\nagent = b\n"
    "[tool.ask_c]\nkind = agent\nagent = c\n"
    "[tool.ask_d]\nkind = agent\nagent = d\n";

}  // namespace config_binding_test

using namespace config_binding_test;

TEST_CASE("config: every key of every section reaches its struct field") {
  auto rows = all_keys();
  auto cfg = parse_node_config(to_ini(rows), "/cfg/dir/node.ini", {}, {});
  REQUIRE_MESSAGE(cfg, describe(cfg.error()));
  for (const auto& r : rows) {
    INFO("[" << r.section << "] " << r.key);
    r.check(*cfg);
  }
  // Keys that exclude one of the rows above get their own config.
  auto others = exclusive_keys();
  auto alt = parse_node_config(to_ini(others) + "[provider.p1]\n[agent.planner]\nprovider = p1\n",
                               "/cfg/dir/node.ini", {}, {});
  REQUIRE_MESSAGE(alt, describe(alt.error()));
  for (const auto& r : others) {
    INFO("[" << r.section << "] " << r.key);
    r.check(*alt);
  }
  // The tables cover the whole schema: a new key without a row fails here.
  std::set<std::string> covered;
  for (const auto& r : rows)
    covered.insert(r.section.substr(0, r.section.find('.')) + "." + r.key);
  for (const auto& r : others)
    covered.insert(r.section.substr(0, r.section.find('.')) + "." + r.key);
  // [cluster] is optional and checked across its keys: its own test
  // (config_cluster_test.cpp) sets every key and checks every field.
  for (const auto& s : node_schema().sections())
    for (const auto& k : s.keys)
      CHECK_MESSAGE((s.name == "cluster" || covered.count(s.name + "." + k.name) == 1),
                    s.name << "." << k.name);
}

TEST_CASE("config: named sections become list entries named after the section") {
  auto cfg = parse_node_config(to_ini(all_keys()), "node.ini", {}, {});
  REQUIRE(cfg);
  CHECK(cfg->agents.size() == 2);
  CHECK(cfg->agents[0].name == "planner");
  CHECK(cfg->agents[1].name == "helper");
  CHECK(cfg->providers.size() == 4);
  CHECK(cfg->tools.size() == 4);
  CHECK(cfg->memories.size() == 2);
}

TEST_CASE("config: unset keys keep the struct defaults") {
  auto cfg = parse_node_config(minimal(), "node.ini", {}, {});
  REQUIRE_MESSAGE(cfg, describe(cfg.error()));
  const agent_config d;
  const auto& a = cfg->agents.at(0);
  CHECK(a.name == "a");
  CHECK(a.provider == d.provider);
  CHECK(a.model == d.model);
  CHECK_FALSE(a.temperature.has_value());
  CHECK(a.effective_temperature() == doctest::Approx(preset_temperature(agent_role::general)));
  CHECK(a.request_timeout == d.request_timeout);
  CHECK(cfg->runtime.scheduler_threads == 2);
  CHECK(cfg->runtime.log_level == log_severity::info);
  CHECK(cfg->runtime.data_dir.empty());
  CHECK(cfg->supervisor.restarts_max == supervision_config{}.restarts_max);
}

TEST_CASE("config: at least one agent is required") {
  auto msg = binding_error(parse_node_config("[provider.scripted]\n", "node.ini", {}, {}));
  CHECK(msg.find("node.ini") != std::string::npos);
  CHECK(msg.find("at least one agent") != std::string::npos);
}

TEST_CASE("config: an agent's provider, tools and memory must name existing sections") {
  SUBCASE("provider, set in the file") {
    auto msg =
        binding_error(parse_node_config(minimal("provider = scriptd\n"), "node.ini", {}, {}));
    CHECK(msg ==
          "node.ini:3: [agent.a] provider: no section [provider.scriptd] "
          "(did you mean 'scripted'?)");
  }
  SUBCASE("provider, by default") {
    auto msg = binding_error(parse_node_config("[agent.a]\n", "node.ini", {}, {}));
    CHECK(msg == "node.ini:1 (default): [agent.a] provider: no section [provider.scripted]");
  }
  SUBCASE("tools") {
    auto msg = binding_error(parse_node_config(minimal("tools = calc, nope\n[tool.calc]\nkind = "
                                                       "calculator\n"),
                                               "node.ini", {}, {}));
    CHECK(msg == "node.ini:3: [agent.a] tools: no section [tool.nope]");
  }
  SUBCASE("a tool listed twice") {
    auto msg = binding_error(parse_node_config(
        minimal("tools = calc, calc\n[tool.calc]\nkind = calculator\n"), "node.ini", {}, {}));
    CHECK(msg == "node.ini:3: [agent.a] tools: tool 'calc' is listed twice");
  }
  SUBCASE("memory") {
    auto msg = binding_error(parse_node_config(minimal("memory = mem\n"), "node.ini", {}, {}));
    CHECK(msg == "node.ini:3: [agent.a] memory: no section [memory.mem]");
  }
  SUBCASE("an override's reference is checked too") {
    auto msg = binding_error(parse_node_config(minimal(), "node.ini", {}, {"agent.a.memory=x"}));
    CHECK(msg == "--set agent.a.memory=x: [agent.a] memory: no section [memory.x]");
  }
}

TEST_CASE("config: tools of kind agent and file_read need their target") {
  SUBCASE("agent tool names a missing agent") {
    auto msg = binding_error(
        parse_node_config(minimal("[tool.ask]\nkind = agent\nagent = b\n"), "node.ini", {}, {}));
    CHECK(msg == "node.ini:5: [tool.ask] agent: no section [agent.b]");
  }
  SUBCASE("agent tool without agent") {
    auto msg =
        binding_error(parse_node_config(minimal("[tool.ask]\nkind = agent\n"), "node.ini", {}, {}));
    CHECK(msg == "node.ini:4: [tool.ask] agent: required for kind agent");
  }
  SUBCASE("file_read without root") {
    auto msg = binding_error(
        parse_node_config(minimal("[tool.f]\nkind = file_read\n"), "node.ini", {}, {}));
    CHECK(msg == "node.ini:4: [tool.f] root: required for kind file_read");
  }
  SUBCASE("a tool without kind") {
    auto msg =
        binding_error(parse_node_config(minimal("[tool.t]\ncache = on\n"), "node.ini", {}, {}));
    CHECK(msg == "node.ini:3: [tool.t] kind: required key is missing");
  }
}

TEST_CASE("config: agent tools must not form a cycle") {
  SUBCASE("an agent calling itself") {
    auto msg = binding_error(parse_node_config(
        minimal("tools = self\n[tool.self]\nkind = agent\nagent = a\n"), "node.ini", {}, {}));
    CHECK(msg == "node.ini:6: [tool.self] agent: agent tools form a cycle: a -> self -> a");
  }
  SUBCASE("a longer cycle") {
    std::string text =
        "[provider.scripted]\n"
        "[agent.a]\ntools = ask_b\n"
        "[agent.b]\ntools = ask_c\n"
        "[agent.c]\ntools = ask_a\n"
        "[tool.ask_a]\nkind = agent\nagent = a\n"
        "[tool.ask_b]\nkind = agent\nagent = b\n"
        "[tool.ask_c]\nkind = agent\nagent = c\n";
    auto msg = binding_error(parse_node_config(text, "node.ini", {}, {}));
    CHECK(msg ==
          "node.ini:10: [tool.ask_a] agent: agent tools form a cycle: "
          "a -> ask_b -> b -> ask_c -> c -> ask_a -> a");
  }
  SUBCASE("a diamond is not a cycle") {
    auto cfg = parse_node_config(config_binding_test::diamond, "node.ini", {}, {});
    CHECK_MESSAGE(cfg, describe(cfg.error()));
  }
}

namespace config_binding_test {

// The build order as "agent:<name>" / "tool:<name>" words, for comparison.
std::vector<std::string> build_order_words(const node_config& cfg) {
  std::vector<std::string> out;
  for (const auto& step : cfg.build_order)
    out.push_back(step.what == node_config::build_step::kind::agent
                    ? "agent:" + cfg.agents.at(step.index).name
                    : "tool:" + cfg.tools.at(step.index).name);
  return out;
}

}  // namespace config_binding_test

TEST_CASE("config: the build order puts each agent tool after its agent, each agent after its "
          "agent tools") {
  using words = std::vector<std::string>;
  SUBCASE("a chain: planner -> ask_researcher -> researcher") {
    std::string text =
        "[provider.scripted]\n"
        "[agent.planner]\ntools = calc, ask_researcher\n"
        "[agent.researcher]\n"
        "[tool.calc]\nkind = calculator\n"
        "[tool.ask_researcher]\nkind = agent\nagent = researcher\n";
    auto cfg = parse_node_config(text, "node.ini", {}, {});
    REQUIRE_MESSAGE(cfg, describe(cfg.error()));
    // The calculator depends on nothing here: it is not in the order.
    CHECK(config_binding_test::build_order_words(*cfg)
          == words{"agent:researcher", "tool:ask_researcher", "agent:planner"});
  }
  SUBCASE("a diamond places each agent and tool once; an unlisted agent tool comes last") {
    auto text = config_binding_test::diamond + "[tool.ask_a]\nkind = agent\nagent = a\n";
    auto cfg = parse_node_config(text, "node.ini", {}, {});
    REQUIRE_MESSAGE(cfg, describe(cfg.error()));
    CHECK(config_binding_test::build_order_words(*cfg)
          == words{"agent:d", "tool:ask_d", "agent:b", "tool:ask_b", "agent:c", "tool:ask_c",
                   "agent:a", "tool:ask_a"});
  }
}

TEST_CASE("config: provider kinds and retry jitter modes read back from their words") {
  for (auto k : provider_kinds)
    CHECK(parse_provider_kind(to_string(k)) == k);
  CHECK_FALSE(parse_provider_kind("gpt"));
  for (auto m : jitter_modes)
    CHECK(parse_jitter_mode(to_string(m)) == m);
  CHECK_FALSE(parse_jitter_mode("none"));
}

TEST_CASE("config: relative paths resolve against the config file's directory") {
  auto dir = std::string{AGENTGRAPH_SOURCE_DIR} + "/tests/data/config";
  auto cfg = load_node_config(dir + "/paths.ini", {},
                              {"tool.files.root=from_cli", "runtime.data_dir=/var/lib/ag"});
  REQUIRE_MESSAGE(cfg, describe(cfg.error()));
  CHECK(named(cfg->providers, "scripted").rules == dir + "/rules/echo.rules");
  CHECK(named(cfg->memories, "notes").snapshot_path == dir + "/state/notes.db");
  // A shard without snapshot_path snapshots under data_dir.
  CHECK(named(cfg->memories, "plain").snapshot_path == "/var/lib/ag/plain.sqlite");
  // The command line resolves against the file's directory too, and an
  // absolute value is left alone.
  CHECK(named(cfg->tools, "files").root == dir + "/from_cli");
  CHECK(cfg->runtime.data_dir == "/var/lib/ag");
  // Without a directory in the origin, paths stay relative to the process.
  auto rel = parse_node_config(minimal("[memory.m]\nsnapshot_path = m.db\n"), "node.ini", {}, {});
  REQUIRE(rel);
  CHECK(rel->memories.at(0).snapshot_path == "m.db");
  // Without data_dir, a shard without snapshot_path is not persisted.
  auto none = parse_node_config(minimal("[memory.m]\n"), "node.ini", {}, {});
  REQUIRE(none);
  CHECK(none->memories.at(0).snapshot_path.empty());
}

TEST_CASE("config: load_node_config reports unreadable and oversized files") {
  auto missing = load_node_config("/nonexistent/node.ini", {}, {});
  REQUIRE_FALSE(missing);
  CHECK(errc_of(missing.error()) == errc::io_error);
  CHECK(error_context(missing.error()).find("/nonexistent/node.ini") != std::string::npos);
  auto dir = load_node_config(std::string{AGENTGRAPH_SOURCE_DIR} + "/tests/data/config", {}, {});
  REQUIRE_FALSE(dir);
  CHECK(errc_of(dir.error()) == errc::io_error);
  // A device is refused at once, not read (issue 9 part 5; FIFOs and the
  // referenced files: config_checks_test.cpp).
  auto device = load_node_config("/dev/zero", {}, {});
  REQUIRE_FALSE(device);
  CHECK(error_context(device.error()) == "/dev/zero: is a character device, not a regular file");
}
