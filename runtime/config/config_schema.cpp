#include "runtime/config/config_schema.hpp"

#include <cstdio>
#include <cstdlib>

#include "runtime/config/config_text.hpp"
#include "runtime/error.hpp"

namespace agentgraph {

namespace config_schema_detail {

key_spec make_key(std::string name, value_type type, std::optional<config_value> def,
                  std::string help) {
  key_spec k;
  k.name = std::move(name);
  k.rules.type = type;
  k.default_value = std::move(def);
  k.help = std::move(help);
  return k;
}

key_spec bounded(key_spec k, long double min, long double max) {
  k.rules.min = min;
  k.rules.max = max;
  return k;
}

// A broken declaration is a bug in agentgraph, not an operating error, so it
// stops the process at once (the first unit test that builds the schema).
[[noreturn]] void schema_bug(const std::string& what) {
  std::fprintf(stderr, "agentgraph: config schema bug: %s\n", what.c_str());
  std::abort();
}

bool valid_key_name(std::string_view k) {
  if (k.empty() || k.size() > 64 || k[0] < 'a' || k[0] > 'z')
    return false;
  for (char c : k)
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'))
      return false;
  return true;
}

void check_key(const section_spec& s, const key_spec& k) {
  auto where = s.display_name() + "." + k.name;
  if (!valid_key_name(k.name))
    schema_bug(where + ": bad key name");
  if (k.default_value && k.required)
    schema_bug(where + ": a required key cannot have a default");
  if (k.rules.type == value_type::enumeration && k.rules.choices.empty())
    schema_bug(where + ": enum without choices");
  if (k.default_value) {
    // The default must survive the same parser user input goes through:
    // this keeps describe_schema, reference.ini and the bounds honest.
    auto text = format_config_value(*k.default_value);
    auto back = parse_config_value(k.rules, text);
    if (!back || *back != *k.default_value)
      schema_bug(where + ": default '" + text + "' does not parse back or is out of bounds");
  }
  if (!k.applies_if_key.empty()) {
    auto sel = s.find_key(k.applies_if_key);
    if (sel == nullptr || sel->rules.type != value_type::enumeration)
      schema_bug(where + ": applies_if must name an enum key of the same section");
  }
}

}  // namespace config_schema_detail

key_spec string_key(std::string name, std::string def, std::string help) {
  return config_schema_detail::make_key(std::move(name), value_type::string,
                                        config_value{std::move(def)}, std::move(help));
}

key_spec path_key(std::string name, std::string def, std::string help) {
  return config_schema_detail::make_key(std::move(name), value_type::path,
                                        config_value{std::move(def)}, std::move(help));
}

key_spec bool_key(std::string name, bool def, std::string help) {
  return config_schema_detail::make_key(std::move(name), value_type::boolean, config_value{def},
                                        std::move(help));
}

key_spec int_key(std::string name, int64_t def, int64_t min, int64_t max, std::string help) {
  using namespace config_schema_detail;
  return bounded(make_key(std::move(name), value_type::integer, config_value{def}, std::move(help)),
                 min, max);
}

key_spec uint_key(std::string name, uint64_t def, uint64_t min, uint64_t max, std::string help) {
  using namespace config_schema_detail;
  return bounded(
      make_key(std::move(name), value_type::unsigned_integer, config_value{def}, std::move(help)),
      min, max);
}

key_spec double_key(std::string name, double def, double min, double max, std::string help) {
  using namespace config_schema_detail;
  return bounded(make_key(std::move(name), value_type::number, config_value{def}, std::move(help)),
                 min, max);
}

key_spec duration_key(std::string name, config_duration def, config_duration min,
                      config_duration max, std::string help) {
  using namespace config_schema_detail;
  return bounded(
      make_key(std::move(name), value_type::duration, config_value{def}, std::move(help)),
      min.count(), max.count());
}

key_spec list_key(std::string name, std::string help) {
  return config_schema_detail::make_key(std::move(name), value_type::string_list,
                                        config_value{config_list{}}, std::move(help));
}

key_spec enum_key(std::string name, std::string def, std::vector<std::string> choices,
                  std::string help) {
  auto k = config_schema_detail::make_key(std::move(name), value_type::enumeration,
                                          config_value{std::move(def)}, std::move(help));
  k.rules.choices = std::move(choices);
  return k;
}

key_spec uint_map_key(std::string name, uint64_t min, uint64_t max, std::string help) {
  using namespace config_schema_detail;
  return bounded(make_key(std::move(name), value_type::uint_map, config_value{config_uint_map{}},
                          std::move(help)),
                 min, max);
}

key_spec unset_by_default(key_spec k) {
  k.default_value.reset();
  k.required = false;
  return k;
}

key_spec required_key(key_spec k) {
  k.default_value.reset();
  k.required = true;
  return k;
}

key_spec applies_if(key_spec k, std::string selector_key,
                    std::vector<std::string> selector_values) {
  k.applies_if_key = std::move(selector_key);
  k.applies_if_values = std::move(selector_values);
  return k;
}

const key_spec* section_spec::find_key(std::string_view key) const {
  for (const auto& k : keys)
    if (k.name == key)
      return &k;
  return nullptr;
}

std::vector<std::string> section_spec::key_names() const {
  std::vector<std::string> out;
  out.reserve(keys.size());
  for (const auto& k : keys)
    out.push_back(k.name);
  return out;
}

std::string section_spec::display_name() const {
  return named ? name + ".<name>" : name;
}

bool valid_instance_name(std::string_view name) {
  if (name.empty() || name.size() > config_instance_name_bytes_max)
    return false;
  for (char c : name)
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-'))
      return false;
  return true;
}

std::string env_var_name(std::string_view section, std::string_view key) {
  std::string out = "AGENTGRAPH_";
  auto append = [&out](std::string_view part) {
    for (char c : part) {
      if (c == '.' || c == '-')
        c = '_';
      else if (c >= 'a' && c <= 'z')
        c = static_cast<char>(c - 'a' + 'A');
      out += c;
    }
  };
  append(section);
  out += '_';
  append(key);
  return out;
}

void config_schema::add_section(section_spec s) {
  using namespace config_schema_detail;
  if (!valid_key_name(s.name) || find(s.name) != nullptr)
    schema_bug("bad or duplicate section name '" + s.name + "'");
  for (size_t i = 0; i < s.keys.size(); ++i) {
    check_key(s, s.keys[i]);
    for (size_t j = 0; j < i; ++j)
      if (s.keys[j].name == s.keys[i].name)
        schema_bug(s.display_name() + "." + s.keys[i].name + ": declared twice");
  }
  sections_.push_back(std::move(s));
}

const section_spec* config_schema::find(std::string_view name) const {
  for (const auto& s : sections_)
    if (s.name == name)
      return &s;
  return nullptr;
}

std::vector<std::string> config_schema::section_names() const {
  std::vector<std::string> out;
  for (const auto& s : sections_)
    out.push_back(s.name);
  return out;
}

}  // namespace agentgraph
