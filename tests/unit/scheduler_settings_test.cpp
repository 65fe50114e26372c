// The [runtime] scheduler_* keys: each parses, is range-checked with a
// message naming the key and the bound, and reaches the CAF scheduler a
// Runtime runs on (read back from the actor system's config and from the
// workers themselves); the policy selects the scheduler class.
#include <doctest/doctest.h>

#include <caf/policy/work_sharing.hpp>
#include <caf/policy/work_stealing.hpp>
#include <caf/scheduler/coordinator.hpp>

#include "actors/host/node_config.hpp"
#include "actors/host/runtime.hpp"
#include "actors/host/runtime_builder.hpp"
#include "actors/host/runtime_client.hpp"
#include "runtime/error.hpp"

using namespace agentgraph;
using namespace std::chrono_literals;

namespace scheduler_settings_test {

using stealing_coordinator = caf::scheduler::coordinator<caf::policy::work_stealing>;
using sharing_coordinator = caf::scheduler::coordinator<caf::policy::work_sharing>;

const std::string rules = AGENTGRAPH_SOURCE_DIR "/configs/examples/research.rules.json";

// A valid node config with `runtime` as its [runtime] section.
std::string node_ini(const std::string& runtime) {
  return "[runtime]\n" + runtime + "[provider.scripted]\nrules = " + rules + "\n[agent.a]\n";
}

std::string load_error(const std::string& runtime) {
  auto cfg = parse_node_config(node_ini(runtime), "node.ini", {}, {});
  REQUIRE_FALSE(cfg);
  return error_context(cfg.error());
}

// Every scheduler key set away from its default.
const char* const all_stealing_keys =
  "scheduler_policy = stealing\n"
  "scheduler_aggressive_poll_attempts = 777\n"
  "scheduler_aggressive_steal_interval = 3\n"
  "scheduler_moderate_poll_attempts = 44\n"
  "scheduler_moderate_steal_interval = 2\n"
  "scheduler_moderate_sleep_us = 70\n"
  "scheduler_relaxed_steal_interval = 4\n"
  "scheduler_relaxed_sleep = 25ms\n";

size_t config_count(caf::actor_system& sys, const char* key) {
  return caf::get_or(sys.config(), key, size_t{0});
}

caf::timespan config_span(caf::actor_system& sys, const char* key) {
  return caf::get_or(sys.config(), key, caf::timespan{0});
}

// The settings as CAF's workers hold them: what the scheduler really does,
// not only what the config says.
void check_workers(caf::actor_system& sys, const scheduler_settings& s, uint32_t threads) {
  auto* c = dynamic_cast<stealing_coordinator*>(&sys.scheduler());
  REQUIRE(c != nullptr);
  REQUIRE(c->num_workers() == threads);
  for (size_t i = 0; i < c->num_workers(); ++i) {
    const auto& st = c->worker_by_id(i)->data().strategies;
    CHECK(st[0].attempts == s.aggressive_poll_attempts);
    CHECK(st[0].steal_interval == s.aggressive_steal_interval);
    CHECK(st[1].attempts == s.moderate_poll_attempts);
    CHECK(st[1].steal_interval == s.moderate_steal_interval);
    CHECK(st[1].sleep_duration == caf::timespan{std::chrono::microseconds{s.moderate_sleep_us}});
    CHECK(st[2].steal_interval == s.relaxed_steal_interval);
    CHECK(st[2].sleep_duration == caf::timespan{s.relaxed_sleep});
  }
}

}  // namespace scheduler_settings_test

using namespace scheduler_settings_test;

TEST_CASE("scheduler: every key parses into runtime_settings::scheduler") {
  auto cfg = parse_node_config(node_ini(all_stealing_keys), "node.ini", {}, {});
  REQUIRE_MESSAGE(cfg, describe(cfg.error()));
  const auto& s = cfg->runtime.scheduler;
  CHECK(s.policy == scheduler_policy::stealing);
  CHECK(s.aggressive_poll_attempts == 777);
  CHECK(s.aggressive_steal_interval == 3);
  CHECK(s.moderate_poll_attempts == 44);
  CHECK(s.moderate_steal_interval == 2);
  CHECK(s.moderate_sleep_us == 70);
  CHECK(s.relaxed_steal_interval == 4);
  CHECK(s.relaxed_sleep == 25ms);
  auto sharing = parse_node_config(node_ini("scheduler_policy = sharing\n"), "node.ini", {}, {});
  REQUIRE_MESSAGE(sharing, describe(sharing.error()));
  CHECK(sharing->runtime.scheduler.policy == scheduler_policy::sharing);
  // Without the keys: the struct's defaults (the measured ones).
  auto none = parse_node_config(node_ini(""), "node.ini", {}, {});
  REQUIRE_MESSAGE(none, describe(none.error()));
  CHECK(none->runtime.scheduler.policy == scheduler_policy::stealing);
  CHECK(none->runtime.scheduler.moderate_poll_attempts == 0);
  // The environment and the command line reach them like any key.
  auto env = parse_node_config(node_ini(""), "node.ini",
                               {{"AGENTGRAPH_RUNTIME_SCHEDULER_POLICY", "sharing"}}, {});
  REQUIRE_MESSAGE(env, describe(env.error()));
  CHECK(env->runtime.scheduler.policy == scheduler_policy::sharing);
  auto cli = parse_node_config(node_ini(""), "node.ini", {},
                               {"runtime.scheduler_policy=stealing",
                                "runtime.scheduler_moderate_sleep_us=0"});
  REQUIRE_MESSAGE(cli, describe(cli.error()));
  CHECK(cli->runtime.scheduler.moderate_sleep_us == 0);
}

TEST_CASE("scheduler: bad values are refused, naming the key and the bound") {
  CHECK(load_error("scheduler_policy = fifo\n")
        == "node.ini:2: [runtime] scheduler_policy: 'fifo' is not one of stealing|sharing");
  CHECK(load_error("scheduler_policy = sharng\n").find("(did you mean 'sharing'?)")
        != std::string::npos);
  CHECK(load_error("scheduler_aggressive_poll_attempts = 1000001\n")
        == "node.ini:2: [runtime] scheduler_aggressive_poll_attempts: 1000001 is above the "
           "maximum 1000000");
  CHECK(load_error("scheduler_aggressive_poll_attempts = -1\n")
        == "node.ini:2: [runtime] scheduler_aggressive_poll_attempts: '-1' is not an unsigned "
           "integer");
  // CAF divides by the steal intervals: 0 never reaches it.
  for (const char* key : {"scheduler_aggressive_steal_interval", "scheduler_moderate_steal_interval",
                          "scheduler_relaxed_steal_interval"}) {
    CHECK(load_error(std::string{key} + " = 0\n")
          == "node.ini:2: [runtime] " + std::string{key} + ": 0 is below the minimum 1");
    CHECK(load_error(std::string{key} + " = 100001\n")
          == "node.ini:2: [runtime] " + std::string{key} + ": 100001 is above the maximum 100000");
  }
  CHECK(load_error("scheduler_moderate_poll_attempts = 1000001\n")
        == "node.ini:2: [runtime] scheduler_moderate_poll_attempts: 1000001 is above the maximum "
           "1000000");
  CHECK(load_error("scheduler_moderate_sleep_us = 100001\n")
        == "node.ini:2: [runtime] scheduler_moderate_sleep_us: 100001 is above the maximum "
           "100000");
  CHECK(load_error("scheduler_relaxed_sleep = 0ms\n")
        == "node.ini:2: [runtime] scheduler_relaxed_sleep: 0ms is below the minimum 1ms");
  CHECK(load_error("scheduler_relaxed_sleep = 11s\n")
        == "node.ini:2: [runtime] scheduler_relaxed_sleep: 11s is above the maximum 10s");
  CHECK(load_error("scheduler_relaxed_sleep = 10\n").find("'10' has no unit") != std::string::npos);
}

TEST_CASE("scheduler: work-stealing keys are refused with policy sharing") {
  CHECK(load_error("scheduler_policy = sharing\nscheduler_moderate_sleep_us = 0\n")
        == "node.ini:3: [runtime] scheduler_moderate_sleep_us: applies only when "
           "scheduler_policy is stealing, but scheduler_policy is sharing (node.ini:2)");
  // stealing is the default: a work-stealing key alone applies.
  auto alone = parse_node_config(node_ini("scheduler_aggressive_poll_attempts = 5000\n"),
                                 "node.ini", {}, {});
  REQUIRE_MESSAGE(alone, describe(alone.error()));
  CHECK(alone->runtime.scheduler.aggressive_poll_attempts == 5000);
  CHECK(load_error("scheduler_policy = sharing\nscheduler_relaxed_sleep = 5ms\n")
            .find("scheduler_relaxed_sleep: applies only when scheduler_policy is stealing")
        != std::string::npos);
}

TEST_CASE("scheduler: a default Runtime runs work stealing without the nap phase") {
  Runtime rt;
  CHECK(caf::get_or(rt.system().config(), "scheduler.policy", caf::atom("")) == caf::atom("stealing"));
  check_workers(rt.system(), scheduler_settings{}, runtime_options{}.scheduler_threads);
  CHECK(scheduler_settings{}.moderate_poll_attempts == 0);
}

TEST_CASE("scheduler: policy sharing runs the work-sharing coordinator") {
  runtime_options opts;
  opts.scheduler.policy = scheduler_policy::sharing;
  Runtime rt{opts};
  CHECK(caf::get_or(rt.system().config(), "scheduler.policy", caf::atom("")) == caf::atom("sharing"));
  CHECK(dynamic_cast<sharing_coordinator*>(&rt.system().scheduler()) != nullptr);
  CHECK(rt.system().scheduler().num_workers() == opts.scheduler_threads);
}

TEST_CASE("scheduler: runtime_options reach the actor system's config and its workers") {
  runtime_options opts;
  opts.scheduler_threads = 3;
  opts.scheduler.policy = scheduler_policy::stealing;
  opts.scheduler.aggressive_poll_attempts = 1234;
  opts.scheduler.aggressive_steal_interval = 7;
  opts.scheduler.moderate_poll_attempts = 12;
  opts.scheduler.moderate_steal_interval = 6;
  opts.scheduler.moderate_sleep_us = 33;
  opts.scheduler.relaxed_steal_interval = 5;
  opts.scheduler.relaxed_sleep = 40ms;
  Runtime rt{opts};
  auto& sys = rt.system();
  CHECK(caf::get_or(sys.config(), "scheduler.policy", caf::atom("")) == caf::atom("stealing"));
  CHECK(config_count(sys, "scheduler.max-threads") == 3);
  CHECK(config_count(sys, "work-stealing.aggressive-poll-attempts") == 1234);
  CHECK(config_count(sys, "work-stealing.aggressive-steal-interval") == 7);
  CHECK(config_count(sys, "work-stealing.moderate-poll-attempts") == 12);
  CHECK(config_count(sys, "work-stealing.moderate-steal-interval") == 6);
  CHECK(config_span(sys, "work-stealing.moderate-sleep-duration") == std::chrono::microseconds{33});
  CHECK(config_count(sys, "work-stealing.relaxed-steal-interval") == 5);
  CHECK(config_span(sys, "work-stealing.relaxed-sleep-duration") == 40ms);
  check_workers(sys, opts.scheduler, 3);
}

TEST_CASE("scheduler: a config's keys reach the runtime from_config builds") {
  auto cfg = parse_node_config(node_ini(all_stealing_keys), "node.ini", {}, {});
  REQUIRE_MESSAGE(cfg, describe(cfg.error()));
  auto rt = runtime_builder::from_config(*cfg);
  REQUIRE_MESSAGE(rt, describe(rt.error()));
  CHECK((*rt)->options().scheduler.moderate_sleep_us == 70);
  check_workers((*rt)->system(), cfg->runtime.scheduler, cfg->runtime.scheduler_threads);
  auto r = runtime_client{**rt}.run("a", task_request{"s1", "what is the weather?", {}});
  CHECK_MESSAGE(r, describe(r.error()));
}

TEST_CASE("scheduler: the policy selects the scheduler, and tasks run under both") {
  for (auto policy : {scheduler_policy::stealing, scheduler_policy::sharing}) {
    INFO("policy " << to_string(policy));
    auto cfg = parse_node_config(
      node_ini("scheduler_policy = " + std::string{to_string(policy)} + "\n"), "node.ini", {}, {});
    REQUIRE_MESSAGE(cfg, describe(cfg.error()));
    auto rt = runtime_builder::from_config(*cfg);
    REQUIRE_MESSAGE(rt, describe(rt.error()));
    auto& sched = (*rt)->system().scheduler();
    const bool sharing = policy == scheduler_policy::sharing;
    CHECK((dynamic_cast<sharing_coordinator*>(&sched) != nullptr) == sharing);
    CHECK((dynamic_cast<stealing_coordinator*>(&sched) != nullptr) == !sharing);
    CHECK(sched.num_workers() == cfg->runtime.scheduler_threads);
    auto r = runtime_client{**rt}.run("a", task_request{"s2", "what is the weather?", {}});
    CHECK_MESSAGE(r, describe(r.error()));
  }
}
