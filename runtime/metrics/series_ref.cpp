#include "runtime/metrics/series_ref.hpp"

#include "runtime/error.hpp"
#include "runtime/log.hpp"

namespace agentgraph::metrics {

namespace series_ref_detail {

// A family that cannot be registered (a name clash with an embedding app's
// family, families_max reached) leaves the component without that metric;
// the component itself keeps working.
template <class Family>
Family* checked(caf::expected<Family*> fam, const std::string& name) {
  if (fam)
    return *fam;
  log(log_severity::error, "metrics", "metric family not registered",
      {{"family", name}, {"error", describe(fam.error())}});
  return nullptr;
}

}  // namespace series_ref_detail

counter_family* counter_family_of(registry* reg, const std::string& name, const std::string& help,
                                  std::vector<std::string> label_names) {
  if (reg == nullptr)
    return nullptr;
  return series_ref_detail::checked(reg->add_counter(name, help, std::move(label_names)), name);
}

counter* counter_of(registry* reg, const std::string& name, const std::string& help,
                    std::vector<std::string> label_names, std::vector<std::string> label_values) {
  auto* fam = counter_family_of(reg, name, help, std::move(label_names));
  return fam == nullptr ? nullptr : &fam->with(std::move(label_values));
}

gauge* gauge_of(registry* reg, const std::string& name, const std::string& help,
                std::vector<std::string> label_names, std::vector<std::string> label_values) {
  if (reg == nullptr)
    return nullptr;
  auto* fam = series_ref_detail::checked(reg->add_gauge(name, help, std::move(label_names)), name);
  return fam == nullptr ? nullptr : &fam->with(std::move(label_values));
}

histogram* histogram_of(registry* reg, const std::string& name, const std::string& help,
                        std::vector<std::string> label_names,
                        std::vector<std::string> label_values, std::vector<double> bounds) {
  if (reg == nullptr)
    return nullptr;
  auto* fam = series_ref_detail::checked(
    reg->add_histogram(name, help, std::move(label_names), std::move(bounds)), name);
  return fam == nullptr ? nullptr : &fam->with(std::move(label_values));
}

histogram* latency_histogram_of(registry* reg, const std::string& name, const std::string& help,
                                std::vector<std::string> label_names,
                                std::vector<std::string> label_values) {
  return histogram_of(reg, name, help, std::move(label_names), std::move(label_values),
                      latency_buckets_seconds());
}

}  // namespace agentgraph::metrics
