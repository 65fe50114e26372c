// runtime_client::set_key_vars: refusals before anything is sent, the
// request reaching the key's owner (a stand-in population put on another
// "node" of the Runtime's population_nodes, as the cluster directory would),
// the owner's errors passed through, and the documented behaviour on the
// node's own population (the key's next prompt renders the variables, which
// survive a restart).
#include <doctest/doctest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <future>
#include <map>
#include <mutex>
#include <thread>

#include <caf/scoped_actor.hpp>
#include <caf/send.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "actors/host/node_config.hpp"
#include "actors/host/runtime.hpp"
#include "actors/host/runtime_builder.hpp"
#include "actors/host/runtime_client.hpp"
#include "actors/population/population_nodes.hpp"
#include "runtime/error.hpp"

using namespace agentgraph;
using namespace std::chrono_literals;

namespace population_vars_client_test {

using vars_map = std::map<std::string, std::string>;

// What a stand-in owner was asked to set; `fail` makes it answer io_error,
// `hold` keeps the answer back (the promises stay with the owner).
struct asked {
  std::mutex mu;
  std::vector<std::pair<std::string, vars_map>> calls;
  bool fail = false;
  bool hold = false;
  std::vector<caf::typed_response_promise<bool>> held;
};

// Answers pop_set_vars (recording it); everything else is unsupported.
population_actor::behavior_type owner(population_actor::pointer self,
                                      std::shared_ptr<asked> log) {
  auto no = [](auto&&...) -> caf::error { return make_error(errc::unsupported, "stand-in"); };
  return {
    [no](pop_execute_atom, const std::string&, const task_request&) -> caf::result<task_result> {
      return no();
    },
    [no](pop_execute_stream_atom, const std::string&, const task_request&,
         const stream_sink_actor&) -> caf::result<task_result> { return no(); },
    [no](pop_key_stats_atom, const std::string&) -> caf::result<agent_stats> { return no(); },
    [no](pop_activate_atom, const std::string&) -> caf::result<bool> { return no(); },
    [no](pop_passivate_atom, const std::string&) -> caf::result<bool> { return no(); },
    [no](pop_passivate_all_atom) -> caf::result<uint64_t> { return no(); },
    [](stats_atom) { return population_stats{}; },
    [self, log](pop_set_vars_atom, const std::string& key,
                const vars_map& vars) -> caf::result<bool> {
      std::lock_guard lock{log->mu};
      if (log->fail)
        return make_error(errc::io_error, "the stand-in's store is down");
      log->calls.emplace_back(key, vars);
      if (log->hold) {
        log->held.push_back(self->make_response_promise<bool>());
        return log->held.back();
      }
      return true;
    },
    [](pop_flush_atom) {},
    [](pop_sweep_atom) {},
    [](ping_atom) { return pong_atom::value; },
  };
}

struct fixture {
  std::filesystem::path dir = std::filesystem::temp_directory_path()
                              / ("ag_pop_vars_client_" + std::to_string(::getpid()));
  std::unique_ptr<Runtime> rt;

  fixture() {
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    // An instance whose prompt says mood=happy answers "feeling happy".
    std::ofstream{dir / "rules.json"}
      << R"({"rules": [{"name": "mood", "when": {"agent": "mood=happy", "last_role": "user"},)"
      << R"( "reply": "feeling happy"}, {"name": "echo", "when": {"last_role": "user"},)"
      << R"( "reply": "plain"}]})";
    start();
  }
  ~fixture() {
    rt.reset();
    std::filesystem::remove_all(dir);
  }
  void start() {
    rt.reset();
    auto cfg = parse_node_config("[runtime]\ndata_dir = " + dir.string()
                                   + "\n[provider.scripted]\nrules = rules.json\n"
                                     "[population.crowd]\nrequest_timeout = 10m\n"
                                     "system_prompt = You are {{key}}, mood={{mood}}.\n",
                                 (dir / "node.ini").string(), {}, {});
    REQUIRE_MESSAGE(cfg, describe(cfg.error()));
    auto built = runtime_builder::from_config(*cfg);
    REQUIRE_MESSAGE(built, describe(built.error()));
    rt = std::move(*built);
  }
  std::string answer(const std::string& key) {
    auto r = runtime_client{*rt}.run("crowd/" + key, task_request{"", "how are you", {}});
    REQUIRE_MESSAGE(r, describe(r.error()));
    return r->output;
  }
  // A key `node` owns while it and this node run "crowd".
  std::string key_owned_by(const std::string& node) {
    for (int i = 0; i < 256; ++i) {
      auto k = "k" + std::to_string(i);
      if (rt->populations_placement()->owner_of("crowd", k)->node == node)
        return k;
    }
    FAIL("no key of 256 is owned by " << node);
    return {};
  }
};

errc code_of(const caf::error& err) {
  REQUIRE(err);
  auto c = errc_of(err);
  REQUIRE(c);
  return *c;
}

// The test cases live in the namespace: unity builds put this file next to
// others with a `fixture` of their own.
TEST_CASE("runtime_client set_key_vars: refusals name what is wrong, nothing is sent") {
  fixture f;
  runtime_client client{*f.rt};
  const vars_map ok{{"mood", "happy"}};
  CHECK(code_of(client.set_key_vars("crowd", ok)) == errc::invalid_argument);
  CHECK(code_of(client.set_key_vars("crowd/a b", ok)) == errc::invalid_argument);
  auto unknown = client.set_key_vars("nobody/alice", ok);
  CHECK(code_of(unknown) == errc::not_found);
  CHECK(error_context(unknown).find("nobody") != std::string::npos);
  // population_vars_problem: reserved and bad names, too many, too long.
  CHECK(code_of(client.set_key_vars("crowd/alice", {{"key", "x"}})) == errc::invalid_argument);
  CHECK(code_of(client.set_key_vars("crowd/alice", {{"my mood", "x"}}))
        == errc::invalid_argument);
  vars_map many;
  for (size_t i = 0; i <= population_vars_max; ++i)
    many["v" + std::to_string(i)] = "x";
  CHECK(code_of(client.set_key_vars("crowd/alice", many)) == errc::invalid_argument);
  auto too_long = client.set_key_vars(
    "crowd/alice", {{"mood", std::string(population_var_value_max + 1, 'x')}});
  CHECK(code_of(too_long) == errc::invalid_argument);
  CHECK(error_context(too_long).rfind("vars of 'crowd/alice': ", 0) == 0);
}

TEST_CASE("runtime_client set_key_vars: sent to the key's owner, whose errors pass through") {
  fixture f;
  auto log = std::make_shared<asked>();
  auto other = f.rt->system().spawn(owner, log);
  f.rt->populations_placement()->put("crowd", "other-node", dep<population_actor>{other}, false);
  const auto remote_key = f.key_owned_by("other-node");
  runtime_client client{*f.rt};
  auto err = client.set_key_vars("crowd/" + remote_key, {{"mood", "happy"}});
  CHECK_MESSAGE(!err, describe(err));
  {
    std::lock_guard lock{log->mu};
    REQUIRE(log->calls.size() == 1);
    CHECK(log->calls[0].first == remote_key);
    CHECK(log->calls[0].second == vars_map{{"mood", "happy"}});
  }
  // The non-blocking form answers once, through its callback.
  std::promise<caf::error> done;
  client.set_key_vars("crowd/" + remote_key, {{"mood", "calm"}},
                      [&done](caf::error e) { done.set_value(std::move(e)); });
  auto future = done.get_future();
  REQUIRE(future.wait_for(30s) == std::future_status::ready);
  CHECK(!future.get());
  // The owner's own error comes back as it is.
  {
    std::lock_guard lock{log->mu};
    log->fail = true;
  }
  auto failed = client.set_key_vars("crowd/" + remote_key, {{"mood", "sad"}});
  CHECK(code_of(failed) == errc::io_error);
  CHECK(error_context(failed).find("store is down") != std::string::npos);
  // An owner that dies holding the request: unavailable at once, not at
  // the deadline (the population's request_timeout, 10 minutes here).
  {
    std::lock_guard lock{log->mu};
    log->fail = false;
    log->hold = true;
  }
  std::promise<caf::error> held;
  client.set_key_vars("crowd/" + remote_key, {{"mood", "held"}},
                      [&held](caf::error e) { held.set_value(std::move(e)); });
  auto held_future = held.get_future();
  for (int i = 0; i < 2000; ++i) {
    {
      std::lock_guard lock{log->mu};
      if (!log->held.empty())
        break;
    }
    std::this_thread::sleep_for(5ms);
  }
  caf::scoped_actor self{f.rt->system()};
  self->monitor(other);
  caf::anon_send_exit(other, caf::exit_reason::kill);
  self->receive([](caf::down_msg&) {});
  REQUIRE(held_future.wait_for(30s) == std::future_status::ready);
  auto gone = held_future.get();
  CHECK(code_of(gone) == errc::unavailable);
  CHECK(error_context(gone).find("went down") != std::string::npos);
  {
    std::lock_guard lock{log->mu};
    log->held.clear();
  }
  // An owner that is gone: unavailable at once.
  CHECK(code_of(client.set_key_vars("crowd/" + remote_key, {{"mood", "x"}}))
        == errc::unavailable);
  f.rt->populations_placement()->put("crowd", "other-node", dep<population_actor>{}, false);
  CHECK(code_of(client.set_key_vars("crowd/" + remote_key, {{"mood", "x"}}))
        == errc::unavailable);
  // No node runs the population: unavailable.
  f.rt->populations_placement()->drop("crowd", "other-node");
  f.rt->populations_placement()->drop("crowd", "local");
  CHECK(code_of(client.set_key_vars("crowd/" + remote_key, {{"mood", "x"}}))
        == errc::unavailable);
}

// The documented behaviour of pop_set_vars (population_interface.hpp) on
// the node's own population (its handler: main 662207b).
TEST_CASE("runtime_client set_key_vars: the key's next prompt has them, after a restart too") {
  fixture f;
  CHECK(f.answer("alice") == "plain");
  runtime_client client{*f.rt};
  auto err = client.set_key_vars("crowd/alice", {{"mood", "happy"}});
  REQUIRE_MESSAGE(!err, describe(err));
  CHECK(f.answer("alice") == "feeling happy");
  CHECK(f.answer("bob") == "plain");
  // A passive key is activated for them.
  REQUIRE(!client.set_key_vars("crowd/carol", {{"mood", "happy"}}));
  CHECK(f.answer("carol") == "feeling happy");
  // Saved with the key's state.
  REQUIRE(f.rt->shutdown() == caf::error{});
  f.start();
  CHECK(f.answer("alice") == "feeling happy");
  REQUIRE(!runtime_client{*f.rt}.set_key_vars("crowd/alice", {{"mood", "sad"}}));
  CHECK(f.answer("alice") == "plain");
}

}  // namespace population_vars_client_test
