#include "runtime/config/config_resolve.hpp"

#include <unistd.h>

#include <filesystem>
#include <set>

#include "runtime/config/config_text.hpp"

namespace agentgraph {

const config_entry* config_section::find(std::string_view key) const {
  auto i = entries.find(std::string{key});
  return i == entries.end() ? nullptr : &i->second;
}

std::string config_section::origin_of(std::string_view key) const {
  auto e = find(key);
  if (e != nullptr && !e->is_default())
    return e->origin;
  return origin + " (default)";
}

const config_section* config_tree::find(std::string_view name) const {
  for (const auto& s : sections)
    if (s.name == name)
      return &s;
  return nullptr;
}

std::vector<const config_section*> config_tree::family(std::string_view family) const {
  std::vector<const config_section*> out;
  for (const auto& s : sections)
    if (s.family == family && !s.instance.empty())
      out.push_back(&s);
  return out;
}

caf::error config_error(errc code, std::string_view origin, std::string_view section,
                        std::string_view key, std::string_view message) {
  std::string text{origin};
  text += ": [";
  text += section;
  text += "] ";
  if (!key.empty()) {
    text += key;
    text += ": ";
  }
  text += message;
  return make_error(code, std::move(text));
}

namespace config_resolve_detail {

std::string did_you_mean(std::string_view name, const std::vector<std::string>& candidates,
                         std::string_view before = "'", std::string_view after = "'") {
  auto hint = closest_name(name, candidates);
  if (!hint)
    return {};
  return " (did you mean " + std::string{before} + *hint + std::string{after} + "?)";
}

// A value's parse error quotes the value; for a secret-like key or value
// every copy of it is replaced, so a mistyped key never reaches a log.
std::string redacted(std::string message, std::string_view key, std::string_view value) {
  if (value.empty() || shown_value(key, value) == value)
    return message;
  for (auto at = message.find(value); at != std::string::npos; at = message.find(value, at))
    message.replace(at, value.size(), "<redacted>");
  return message;
}

struct env_target {
  size_t section = 0;
  std::string key;
};

class resolver {
 public:
  resolver(const config_schema& schema, std::string base_dir)
    : schema_(schema), base_dir_(std::move(base_dir)) {
    for (const auto& s : schema_.sections())
      if (!s.named)
        tree_.sections.push_back(config_section{s.name, s.name, {}, "default", {}});
  }

  caf::error apply_file(const ini_document& doc);
  caf::error apply_env(const std::map<std::string, std::string>& env);
  caf::error apply_overrides(const std::vector<std::string>& overrides);
  caf::error finish();

  config_tree take() { return std::move(tree_); }

 private:
  caf::error add_file_section(const ini_document& doc, const ini_section& sec);
  caf::error set_value(config_section& sec, std::string_view key, std::string_view text,
                       const std::string& origin);
  caf::error finish_section(config_section& sec);
  caf::error check_applies(const config_section& sec, const key_spec& k);
  config_section* find_section(std::string_view name);
  std::string section_hint(std::string_view family) const;
  std::map<std::string, std::vector<env_target>> env_names() const;
  std::set<std::string> secret_vars() const;

  const config_schema& schema_;
  const std::string base_dir_;
  config_tree tree_;
};

config_section* resolver::find_section(std::string_view name) {
  for (auto& s : tree_.sections)
    if (s.name == name)
      return &s;
  return nullptr;
}

// " (did you mean [agent.<name>]?)" for a mistyped section family.
std::string resolver::section_hint(std::string_view family) const {
  auto hint = closest_name(family, schema_.section_names());
  if (!hint)
    return {};
  return " (did you mean [" + schema_.find(*hint)->display_name() + "]?)";
}

caf::error resolver::add_file_section(const ini_document& doc, const ini_section& sec) {
  auto where = ini_location(doc.origin, sec.line);
  auto dot = sec.name.find('.');
  auto family = sec.name.substr(0, dot);
  auto spec = schema_.find(family);
  if (spec == nullptr)
    return make_error(errc::invalid_argument,
                      where + ": unknown section [" + sec.name + "]" + section_hint(family));
  if (!spec->named) {
    if (dot != std::string::npos)
      return make_error(errc::invalid_argument,
                        where + ": section [" + family + "] takes no name; write [" + family + "]");
    find_section(family)->origin = where;
    return {};
  }
  auto instance = dot == std::string::npos ? std::string{} : sec.name.substr(dot + 1);
  if (dot == std::string::npos)
    return make_error(errc::invalid_argument, where + ": section [" + family +
                                                  "] needs a name; write [" + family + ".<name>]");
  if (!valid_instance_name(instance))
    return make_error(errc::invalid_argument, where + ": bad section name [" + sec.name +
                                                  "]: the part after '" + family +
                                                  ".' must match [a-z0-9_-]{1,64}");
  tree_.sections.push_back(config_section{sec.name, family, instance, where, {}});
  return {};
}

caf::error resolver::set_value(config_section& sec, std::string_view key, std::string_view text,
                               const std::string& origin) {
  auto spec = schema_.find(sec.family)->find_key(key);
  if (spec == nullptr) {
    auto hint = did_you_mean(key, schema_.find(sec.family)->key_names());
    return config_error(errc::invalid_argument, origin, sec.name, {},
                        "unknown key '" + shown_value({}, key) + "'" + hint);
  }
  auto value = parse_config_value(spec->rules, text);
  if (!value)
    return config_error(errc_of(value.error()).value_or(errc::invalid_argument), origin, sec.name,
                        key, redacted(error_context(value.error()), key, text));
  if (spec->rules.type == value_type::path) {
    std::filesystem::path p{std::get<std::string>(*value)};
    if (!p.empty() && p.is_relative() && !base_dir_.empty())
      *value = (std::filesystem::path{base_dir_} / p).lexically_normal().string();
  }
  sec.entries[std::string{key}] = config_entry{std::move(*value), origin};
  return {};
}

caf::error resolver::apply_file(const ini_document& doc) {
  for (const auto& sec : doc.sections)
    if (auto err = add_file_section(doc, sec))
      return err;
  for (const auto& sec : doc.sections) {
    auto target = find_section(sec.name);
    for (const auto& e : sec.entries)
      if (auto err = set_value(*target, e.key, e.value, ini_location(doc.origin, e.line)))
        return err;
  }
  return {};
}

// Every variable name a present key answers to. Two keys may collide
// ("agent.a_b" + "x" and "agent.a-b" + "x"); both are kept so the lookup can
// report the ambiguity instead of guessing.
std::map<std::string, std::vector<env_target>> resolver::env_names() const {
  std::map<std::string, std::vector<env_target>> out;
  for (size_t i = 0; i < tree_.sections.size(); ++i) {
    const auto& sec = tree_.sections[i];
    for (const auto& k : schema_.find(sec.family)->keys)
      out[env_var_name(sec.name, k.name)].push_back(env_target{i, k.name});
  }
  return out;
}

// The variables the *_env keys name ([cluster] secret_env, [node]
// auth_token_env, a provider's api_key_env) in the file and by default:
// they hold secrets, not config values, so an AGENTGRAPH_* name among them
// (secret_env's default, AGENTGRAPH_CLUSTER_SECRET) is left alone rather
// than refused as a mistyped key.
std::set<std::string> resolver::secret_vars() const {
  std::set<std::string> out;
  for (const auto& sec : tree_.sections)
    for (const auto& k : schema_.find(sec.family)->keys) {
      if (k.rules.type != value_type::string || !k.name.ends_with("_env"))
        continue;
      if (auto e = sec.find(k.name))
        out.insert(std::get<std::string>(e->value));
      if (k.default_value)
        out.insert(std::get<std::string>(*k.default_value));
    }
  return out;
}

caf::error resolver::apply_env(const std::map<std::string, std::string>& env) {
  auto names = env_names();
  const auto secrets = secret_vars();
  size_t seen = 0;
  for (const auto& [var, text] : env) {
    if (var.rfind(config_env_prefix, 0) != 0 || var == config_path_env
        || var.rfind(config_test_env_prefix, 0) == 0)
      continue;
    if (++seen > config_env_vars_max)
      return make_error(errc::invalid_argument, "environment: more than " +
                                                    std::to_string(config_env_vars_max) +
                                                    " AGENTGRAPH_* variables");
    auto origin = "environment " + var;
    auto i = names.find(var);
    if (i == names.end() && secrets.contains(var))
      continue;
    if (i == names.end()) {
      std::vector<std::string> known;
      for (const auto& kv : names)
        known.push_back(kv.first);
      return make_error(errc::invalid_argument,
                        origin + ": matches no config key" + did_you_mean(var, known, "", "") +
                            "; a named section such as [agent.<name>] must be declared in the "
                            "config file before the environment can set its keys");
    }
    if (i->second.size() > 1) {
      const auto& a = i->second[0];
      const auto& b = i->second[1];
      return make_error(errc::invalid_argument,
                        origin + ": ambiguous: it names both [" + tree_.sections[a.section].name +
                            "] " + a.key + " and [" + tree_.sections[b.section].name + "] " +
                            b.key + "; use --set on the command line instead");
    }
    const auto& t = i->second.front();
    if (auto err = set_value(tree_.sections[t.section], t.key, trim(text), origin))
      return err;
  }
  return {};
}

caf::error resolver::apply_overrides(const std::vector<std::string>& overrides) {
  if (overrides.size() > config_overrides_max)
    return make_error(
        errc::invalid_argument,
        "command line: more than " + std::to_string(config_overrides_max) + " overrides");
  for (const auto& o : overrides) {
    auto eq = o.find('=');
    auto lhs = trim(std::string_view{o}.substr(0, eq));
    auto dot = lhs.rfind('.');
    if (eq == std::string::npos || dot == std::string_view::npos || dot == 0 ||
        dot + 1 == lhs.size())
      return make_error(errc::parse_error, "command line: override '" + shown_value({}, o)
                                             + "' is not of the form section.key=value");
    auto value = trim(std::string_view{o}.substr(eq + 1));
    auto key = lhs.substr(dot + 1);
    // The assignment as typed (the value hidden when it looks secret): the
    // origin of the value, also for `--section.key value` options.
    auto shown = std::string{lhs} + "=" + shown_value(key, value);
    auto section = lhs.substr(0, dot);
    auto sec = find_section(section);
    if (sec == nullptr) {
      auto family = section.substr(0, section.find('.'));
      auto spec = schema_.find(family);
      if (spec != nullptr && spec->named)
        return make_error(errc::invalid_argument,
                          "command line: override '" + shown + "': the config file has no section [" +
                              std::string{section} +
                              "]; overrides cannot create named sections, add it to the file");
      return make_error(errc::invalid_argument, "command line: override '" + shown +
                                                    "': unknown section [" + std::string{section} +
                                                    "]" + section_hint(family));
    }
    if (auto err = set_value(*sec, key, value, "--set " + shown))
      return err;
  }
  return {};
}

caf::error resolver::check_applies(const config_section& sec, const key_spec& k) {
  auto e = sec.find(k.name);
  auto selector = sec.find(k.applies_if_key);
  if (e == nullptr || e->is_default() || selector == nullptr)
    return {};
  const auto& chosen = std::get<std::string>(selector->value);
  for (const auto& v : k.applies_if_values)
    if (v == chosen)
      return {};
  return config_error(errc::invalid_argument, e->origin, sec.name, k.name,
                      "applies only when " + k.applies_if_key + " is " +
                          join(k.applies_if_values, "|") + ", but " + k.applies_if_key + " is " +
                          chosen + " (" + sec.origin_of(k.applies_if_key) + ")");
}

caf::error resolver::finish_section(config_section& sec) {
  const auto& spec = *schema_.find(sec.family);
  for (const auto& k : spec.keys) {
    if (sec.find(k.name) != nullptr)
      continue;
    if (k.required)
      return config_error(errc::invalid_argument, sec.origin, sec.name, k.name,
                          "required key is missing");
    if (k.default_value)
      sec.entries[k.name] = config_entry{*k.default_value, std::string{config_default_origin}};
  }
  for (const auto& k : spec.keys)
    if (!k.applies_if_key.empty())
      if (auto err = check_applies(sec, k))
        return err;
  return {};
}

caf::error resolver::finish() {
  for (auto& sec : tree_.sections)
    if (auto err = finish_section(sec))
      return err;
  return {};
}

}  // namespace config_resolve_detail

caf::expected<config_tree> resolve_config(const config_schema& schema, const ini_document& file,
                                          const std::map<std::string, std::string>& env,
                                          const std::vector<std::string>& overrides,
                                          const std::string& base_dir) {
  config_resolve_detail::resolver r{schema, base_dir};
  if (auto err = r.apply_file(file))
    return err;
  // Lowest to highest precedence: each later source overwrites the earlier.
  if (auto err = r.apply_env(env))
    return err;
  if (auto err = r.apply_overrides(overrides))
    return err;
  if (auto err = r.finish())
    return err;
  return r.take();
}

}  // namespace agentgraph

extern char** environ;

namespace agentgraph {

std::map<std::string, std::string> process_environment() {
  std::map<std::string, std::string> out;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    std::string_view kv{*e};
    auto eq = kv.find('=');
    if (eq == std::string_view::npos || kv.rfind(config_env_prefix, 0) != 0)
      continue;
    out.emplace(std::string{kv.substr(0, eq)}, std::string{kv.substr(eq + 1)});
  }
  return out;
}

}  // namespace agentgraph
