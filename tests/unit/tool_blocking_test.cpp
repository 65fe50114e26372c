#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <thread>

#include "actors/tool/blocking_tool.hpp"
#include "actors/tool/tool_common.hpp"
#include "tool_test_fixture.hpp"

using namespace agentgraph;

TEST_CASE("tool: blocking tools bound live worker threads, not waiting callers") {
  tool_test::fixture fx;
  // Workers block until released, far past their 20 ms timeout.
  auto release = std::make_shared<std::promise<void>>();
  std::shared_future<void> released = release->get_future().share();
  auto started = std::make_shared<std::atomic<int>>(0);
  blocking_tool_config cfg;
  cfg.spec = tool_spec{"stuck", "blocks", {}, false};
  cfg.job = [released, started](const Value&) -> caf::expected<Value> {
    ++*started;
    released.wait();
    return Value{"done"};
  };
  cfg.worker_timeout = std::chrono::milliseconds{20};
  auto tool = fx.keep(spawn_blocking_tool(fx.sys, cfg));
  for (uint32_t i = 0; i < tool_inflight_max; ++i) {
    auto r = fx.invoke(tool, "c" + std::to_string(i), Value::object());
    REQUIRE_FALSE(r);
    CHECK(errc_of(r.error()) == errc::timeout);
  }
  // Every worker still holds its thread: one more call is refused at once.
  auto refused = fx.invoke(tool, "extra", Value::object());
  REQUIRE_FALSE(refused);
  CHECK(errc_of(refused.error()) == errc::overloaded);
  release->set_value();
  // Once the workers end, calls are accepted again (bounded wait).
  bool accepted = false;
  for (int attempt = 0; attempt < 500 && !accepted; ++attempt) {
    auto r = fx.invoke(tool, "after", Value::object());
    accepted = static_cast<bool>(r);
    if (!accepted)
      std::this_thread::sleep_for(std::chrono::milliseconds{10});
  }
  CHECK(accepted);
}
