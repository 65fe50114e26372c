#include "actors/provider/provider_factory.hpp"

#include <algorithm>
#include <memory>

#include "actors/provider/scripted_provider.hpp"
#include "actors/provider/scripted_rules.hpp"
#include "runtime/error.hpp"

namespace agentgraph {

namespace provider_factory_detail {

caf::expected<provider_actor> spawn_scripted(caf::actor_system& sys, const provider_config& cfg,
                                             std::shared_ptr<metrics::registry> registry) {
  if (cfg.rules.empty())
    return make_error(errc::invalid_argument,
                      "provider '" + cfg.name + "' (kind scripted): key `rules` (path of the "
                        "rules file) is missing or empty");
  auto rules = load_scripted_rules(cfg.rules);
  if (!rules)
    return make_error(errc_of(rules.error()).value_or(errc::internal),
                      "provider '" + cfg.name + "': " + error_context(rules.error()));
  auto shared = std::make_shared<const scripted_rules>(std::move(*rules));
  return provider_actor{sys.spawn(scripted_provider, std::move(shared),
                                  make_provider_metrics(std::move(registry), cfg.name, false))};
}

}  // namespace provider_factory_detail

caf::expected<provider_actor> spawn_provider(caf::actor_system& sys, const provider_config& cfg,
                                             http_provider_deps deps) {
  if (cfg.kind == "scripted")
    return provider_factory_detail::spawn_scripted(sys, cfg, std::move(deps.metrics));
  auto known = std::find(provider_kinds.begin(), provider_kinds.end(), cfg.kind);
  if (known != provider_kinds.end())
    return spawn_http_provider(sys, cfg, std::move(deps));
  std::string list;
  for (auto k : provider_kinds)
    list.append(list.empty() ? "" : ", ").append(k);
  return make_error(errc::invalid_argument, "provider '" + cfg.name + "': unknown kind '"
                                              + cfg.kind + "' (known: " + list + ")");
}

}  // namespace agentgraph
