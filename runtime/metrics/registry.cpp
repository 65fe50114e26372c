#include "runtime/metrics/registry.hpp"

#include <array>

#include "runtime/error.hpp"
#include "runtime/metrics/names.hpp"

namespace agentgraph::metrics {

namespace registry_detail {

// The extra sample names a histogram `h` writes: h_bucket, h_sum, h_count.
constexpr std::array<std::string_view, 3> histogram_suffixes = {"_bucket", "_sum", "_count"};

std::string quoted(std::string_view name) {
  return "metric family '" + std::string{name} + "'";
}

std::string join_labels(const std::vector<std::string>& labels) {
  std::string out = "{";
  for (size_t i = 0; i < labels.size(); ++i)
    out += (i > 0 ? "," : "") + labels[i];
  return out + "}";
}

}  // namespace registry_detail

registry::registry(registry_limits limits) : limits_(limits) {
  AG_ASSERT(limits_.families_max >= 1);
  AG_ASSERT(limits_.series_max >= 1);
  // Keyed by family name, so families_max series are always enough: this
  // family never overflows, and it has no refusal counter of its own.
  auto refused = std::make_unique<counter_family>(
      std::string{series_refused_metric},
      "Series requests refused by a metric family's series limit (served by its ~overflow "
      "series) and callback samples dropped at scrape, by family.",
      std::vector<std::string>{"family"}, counter::shape{}, limits_.families_max, nullptr);
  refused_ = refused.get();
  families_.emplace(refused_->name(), std::move(refused));
}

template <class Series>
caf::expected<family<Series>*> registry::add_family(std::string name, std::string help,
                                                    std::vector<std::string> label_names,
                                                    typename Series::shape shape) {
  std::lock_guard<std::mutex> guard{mutex_};
  if (auto it = families_.find(name); it != families_.end()) {
    auto* existing = dynamic_cast<family<Series>*>(it->second.get());
    if (existing != nullptr && existing->label_names() == label_names && existing->shape() == shape)
      return existing;
    return make_error(errc::invalid_argument,
                      registry_detail::quoted(name) + " is already registered as a " +
                          it->second->type_name() + " with labels " +
                          registry_detail::join_labels(it->second->label_names()) +
                          (existing != nullptr ? " and other bucket bounds" : ""));
  }
  if (auto err = check_new_family_locked(name, Series::type_name, label_names))
    return err;
  auto made = std::make_unique<family<Series>>(name, std::move(help), std::move(label_names),
                                               std::move(shape), limits_.series_max, refused_);
  auto* raw = made.get();
  families_.emplace(std::move(name), std::move(made));
  return raw;
}

caf::error registry::check_new_family_locked(const std::string& name, std::string_view type,
                                             const std::vector<std::string>& label_names) const {
  using registry_detail::quoted;
  if (!is_valid_metric_name(name))
    return make_error(errc::invalid_argument,
                      quoted(name) + ": name must match [a-zA-Z_:][a-zA-Z0-9_:]*");
  if (type == counter::type_name && !name.ends_with("_total"))
    return make_error(errc::invalid_argument, quoted(name) + ": counter names must end in _total");
  if (auto err = check_label_names(name, label_names, type == histogram::type_name))
    return err;
  for (auto suffix : registry_detail::histogram_suffixes) {
    if (type == histogram::type_name && families_.contains(name + std::string{suffix}))
      return make_error(errc::invalid_argument,
                        quoted(name) + ": its " + std::string{suffix} +
                            " series would collide with a family of that name");
    if (!name.ends_with(suffix))
      continue;
    auto base = families_.find(std::string_view{name}.substr(0, name.size() - suffix.size()));
    if (base != families_.end() && base->second->type_name() == std::string_view{"histogram"})
      return make_error(
          errc::invalid_argument,
          quoted(name) + ": collides with the series of histogram '" + base->first + "'");
  }
  if (families_.size() >= limits_.families_max)
    return make_error(errc::limit_exceeded, quoted(name) + ": the registry already holds " +
                                                std::to_string(limits_.families_max) +
                                                " families (registry_limits::families_max)");
  return {};
}

caf::expected<counter_family*> registry::add_counter(std::string name, std::string help,
                                                     std::vector<std::string> label_names) {
  return add_family<counter>(std::move(name), std::move(help), std::move(label_names), {});
}

caf::expected<gauge_family*> registry::add_gauge(std::string name, std::string help,
                                                 std::vector<std::string> label_names) {
  return add_family<gauge>(std::move(name), std::move(help), std::move(label_names), {});
}

caf::expected<histogram_family*> registry::add_histogram(std::string name, std::string help,
                                                         std::vector<std::string> label_names,
                                                         std::vector<double> bounds) {
  if (auto err = check_bucket_bounds(bounds))
    return make_error(errc::invalid_argument,
                      registry_detail::quoted(name) + ": " + error_context(err));
  return add_family<histogram>(std::move(name), std::move(help), std::move(label_names),
                               histogram::shape{std::move(bounds)});
}

caf::error registry::add_callback(std::string name, std::string help,
                                  std::vector<std::string> label_names, callback_type type,
                                  callback_fn fn) {
  AG_ASSERT(fn != nullptr);
  std::lock_guard<std::mutex> guard{mutex_};
  if (families_.contains(name))
    return make_error(errc::invalid_argument,
                      registry_detail::quoted(name) + " is already registered");
  const char* type_name = type == callback_type::counter ? counter::type_name : gauge::type_name;
  if (auto err = check_new_family_locked(name, type_name, label_names))
    return err;
  auto made = std::make_unique<callback_family>(name, std::move(help), std::move(label_names), type,
                                                std::move(fn), limits_.series_max, refused_);
  families_.emplace(std::move(name), std::move(made));
  return {};
}

std::string registry::scrape() const {
  // Snapshot the family list, then render without the registry lock, so a
  // slow callback never blocks registration. Families are never removed, so
  // the pointers stay valid.
  std::vector<family_base*> snapshot;
  {
    std::lock_guard<std::mutex> guard{mutex_};
    snapshot.reserve(families_.size());
    for (const auto& [name, fam] : families_)
      snapshot.push_back(fam.get());
  }
  std::string out;
  for (auto* fam : snapshot)
    fam->append_text(out);
  return out;
}

uint64_t registry::series_refused() const {
  uint64_t total = 0;
  refused_->for_each([&](const auto&, const counter& c) { total += c.value(); });
  return total;
}

size_t registry::family_count() const {
  std::lock_guard<std::mutex> guard{mutex_};
  return families_.size();
}

}  // namespace agentgraph::metrics
