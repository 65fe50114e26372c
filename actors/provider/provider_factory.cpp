#include "actors/provider/provider_factory.hpp"

#include <algorithm>
#include <memory>

#include "actors/provider/scripted_provider.hpp"
#include "actors/provider/scripted_rules.hpp"
#include "runtime/error.hpp"

namespace agentgraph {

namespace provider_factory_detail {

caf::expected<scripted_rules> load_provider_rules(const provider_config& cfg) {
  if (cfg.rules.empty())
    return make_error(errc::invalid_argument,
                      "provider '" + cfg.name + "' (kind scripted): key `rules` (path of the "
                        "rules file) is missing or empty");
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
  return cfg.kind != provider_kind::scripted
         && std::find(std::begin(provider_kinds), std::end(provider_kinds), cfg.kind)
              != std::end(provider_kinds);
}

}  // namespace provider_factory_detail

caf::error check_provider_startable(const provider_config& cfg) {
  using namespace provider_factory_detail;
  if (cfg.kind == provider_kind::scripted) {
    auto rules = load_provider_rules(cfg);
    return rules ? caf::error{} : std::move(rules.error());
  }
  return http_kind(cfg) ? check_api_key(cfg) : unknown_kind(cfg);
}

caf::expected<provider_actor> spawn_provider(caf::actor_system& sys, const provider_config& cfg,
                                             http_provider_deps deps) {
  using namespace provider_factory_detail;
  if (cfg.kind == provider_kind::scripted)
    return spawn_scripted(sys, cfg, std::move(deps.metrics));
  if (http_kind(cfg))
    return spawn_http_provider(sys, cfg, std::move(deps));
  return unknown_kind(cfg);
}

}  // namespace agentgraph
