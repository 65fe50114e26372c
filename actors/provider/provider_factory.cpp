#include "actors/provider/provider_factory.hpp"

#include <algorithm>
#include <memory>

#include <caf/exit_reason.hpp>
#include <caf/send.hpp>

#include "actors/provider/recording_provider.hpp"
#include "actors/provider/replay_provider.hpp"
#include "actors/provider/scripted_provider.hpp"
#include "actors/provider/scripted_rules.hpp"
#include "runtime/error.hpp"

namespace agentgraph {

namespace provider_factory_detail {

caf::expected<scripted_rules> load_provider_rules(const provider_config& cfg) {
  if (cfg.rules.empty())
    return make_error(errc::invalid_argument,
                      "provider '" + cfg.name + "' (kind " + to_string(cfg.kind)
                        + (cfg.kind == provider_kind::replay ? ", on_miss = scripted" : "")
                        + "): key `rules` (path of the rules file) is missing or empty");
  auto rules = load_scripted_rules(cfg.rules);
  if (!rules)
    return make_error(errc_of(rules.error()).value_or(errc::internal),
                      "provider '" + cfg.name + "': " + error_context(rules.error()));
  return rules;
}

caf::expected<provider_actor> spawn_scripted(caf::actor_system& sys, const provider_config& cfg,
                                             std::shared_ptr<metrics::registry> registry) {
  auto rules = load_provider_rules(cfg);
  if (!rules)
    return std::move(rules.error());
  auto shared = std::make_shared<const scripted_rules>(std::move(*rules));
  return provider_actor{sys.spawn(scripted_provider, std::move(shared),
                                  make_provider_metrics(std::move(registry), cfg.name, false))};
}

// A value outside the enum: only a bad cast or a corrupted config gets here,
// since a config file can name only the declared kinds.
caf::error unknown_kind(const provider_config& cfg) {
  std::string list;
  for (auto k : provider_kinds)
    list.append(list.empty() ? "" : ", ").append(to_string(k));
  return make_error(errc::invalid_argument,
                    "provider '" + cfg.name + "': unknown kind "
                      + std::to_string(static_cast<unsigned>(cfg.kind)) + " (known: " + list + ")");
}

bool http_kind(const provider_config& cfg) {
  return is_http_kind(cfg.kind)
         && std::find(std::begin(provider_kinds), std::end(provider_kinds), cfg.kind)
              != std::end(provider_kinds);
}

// The rules of a replay provider that answers misses from them; null for
// on_miss = error.
caf::expected<std::shared_ptr<const scripted_rules>> replay_rules(const provider_config& cfg) {
  if (cfg.on_miss != replay_on_miss::scripted)
    return std::shared_ptr<const scripted_rules>{};
  auto rules = load_provider_rules(cfg);
  if (!rules)
    return std::move(rules.error());
  return std::make_shared<const scripted_rules>(std::move(*rules));
}

caf::expected<provider_actor> spawn_replay(caf::actor_system& sys, const provider_config& cfg,
                                           std::shared_ptr<metrics::registry> registry) {
  auto rules = replay_rules(cfg);
  if (!rules)
    return std::move(rules.error());
  return spawn_replay_provider(sys, cfg, std::move(*rules), std::move(registry));
}

// The kind's own actor, without record mode.
caf::expected<provider_actor> spawn_kind(caf::actor_system& sys, const provider_config& cfg,
                                         http_provider_deps deps) {
  if (cfg.kind == provider_kind::scripted)
    return spawn_scripted(sys, cfg, std::move(deps.metrics));
  if (cfg.kind == provider_kind::replay)
    return spawn_replay(sys, cfg, std::move(deps.metrics));
  if (http_kind(cfg))
    return spawn_http_provider(sys, cfg, std::move(deps));
  return unknown_kind(cfg);
}

}  // namespace provider_factory_detail

caf::error check_provider_startable(const provider_config& cfg) {
  using namespace provider_factory_detail;
  if (cfg.kind == provider_kind::scripted) {
    auto rules = load_provider_rules(cfg);
    return rules ? caf::error{} : std::move(rules.error());
  }
  if (cfg.kind == provider_kind::replay) {
    if (auto rules = replay_rules(cfg); !rules)
      return std::move(rules.error());
    auto rec = load_replay_recording(cfg);
    return rec ? caf::error{} : std::move(rec.error());
  }
  return http_kind(cfg) ? check_api_key(cfg) : unknown_kind(cfg);
}

caf::expected<provider_actor> spawn_provider(caf::actor_system& sys, const provider_config& cfg,
                                             http_provider_deps deps) {
  using namespace provider_factory_detail;
  auto registry = deps.metrics;
  auto inner = spawn_kind(sys, cfg, std::move(deps));
  if (!inner || cfg.record.empty())
    return inner;
  auto wrapped = spawn_recording_provider(sys, cfg, *inner, std::move(registry));
  if (!wrapped)
    caf::anon_send_exit(*inner, caf::exit_reason::user_shutdown);
  return wrapped;
}

}  // namespace agentgraph
