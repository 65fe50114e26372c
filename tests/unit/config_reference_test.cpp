// configs/reference.ini is hand-maintained documentation; this keeps it
// honest: it lists exactly the declared keys, with their current defaults
// and help, and it is itself a valid config.
#include <doctest/doctest.h>

#include <fstream>
#include <sstream>

#include "actors/host/node_config.hpp"
#include "runtime/config/config_text.hpp"
#include "runtime/error.hpp"

using namespace agentgraph;

namespace config_reference_test {

const std::string reference_path = std::string{AGENTGRAPH_SOURCE_DIR} + "/configs/reference.ini";

struct documented_key {
  std::string value;
  bool active = false;  // `key = value` rather than `;key = value`
  size_t line = 0;
};

std::string read_reference() {
  std::ifstream in{reference_path};
  REQUIRE_MESSAGE(in, "cannot open " << reference_path);
  std::stringstream buf;
  buf << in.rdbuf();
  return buf.str();
}

// "family.key" -> how reference.ini documents it. Both commented-out
// (';key = value') and active settings count; '#' lines are prose. An
// optional section's header is commented out too (';[cluster]'), so the
// file stays a config without it.
std::map<std::string, documented_key> documented_keys(const std::string& text) {
  std::map<std::string, documented_key> out;
  std::string family;
  size_t line_no = 0;
  for (auto raw : split(text, '\n')) {
    ++line_no;
    auto line = trim(raw);
    if (line.empty() || line[0] == '#')
      continue;
    if (line.rfind(";[", 0) == 0)
      line.remove_prefix(1);
    if (line[0] == '[') {
      auto name = line.substr(1, line.find(']') - 1);
      family = std::string{name.substr(0, name.find('.'))};
      continue;
    }
    bool active = line[0] != ';';
    if (!active)
      line.remove_prefix(1);
    auto eq = line.find('=');
    REQUIRE_MESSAGE(eq != std::string_view::npos, "reference.ini:" << line_no);
    auto id = family + "." + std::string{trim(line.substr(0, eq))};
    CHECK_MESSAGE(out.count(id) == 0, "reference.ini:" << line_no << ": " << id << " twice");
    out[id] = documented_key{std::string{trim(line.substr(eq + 1))}, active, line_no};
  }
  return out;
}

}  // namespace config_reference_test

using namespace config_reference_test;

TEST_CASE("config: reference.ini documents every declared key with its default") {
  auto text = read_reference();
  auto documented = documented_keys(text);
  size_t declared = 0;
  for (const auto& s : node_schema().sections()) {
    CHECK_MESSAGE(text.find("# " + s.help + "\n") != std::string::npos, s.name);
    for (const auto& k : s.keys) {
      ++declared;
      auto id = s.name + "." + k.name;
      INFO(id);
      auto i = documented.find(id);
      REQUIRE_MESSAGE(i != documented.end(), id << " is missing from reference.ini");
      const auto& doc = i->second;
      CHECK(text.find("# " + k.help + "\n") != std::string::npos);
      CHECK(text.find(env_var_name(s.display_name(), k.name)) != std::string::npos);
      if (k.required) {
        CHECK_MESSAGE(doc.active, "a required key is set in reference.ini");
      } else {
        CHECK_FALSE(doc.active);
        if (k.default_value)
          CHECK(doc.value == format_config_value(*k.default_value));
        else
          CHECK(parse_config_value(k.rules, doc.value));  // an example value
      }
    }
  }
  // Nothing documented that the schema does not declare.
  CHECK(documented.size() == declared);
  for (const auto& [id, doc] : documented) {
    auto dot = id.find('.');
    auto sec = node_schema().find(id.substr(0, dot));
    CHECK_MESSAGE((sec != nullptr && sec->find_key(id.substr(dot + 1)) != nullptr),
                  "reference.ini:" << doc.line << ": " << id << " is not declared");
  }
}

TEST_CASE("config: reference.ini is a valid config") {
  auto cfg = load_node_config(reference_path, {}, {});
  REQUIRE_MESSAGE(cfg, describe(cfg.error()));
  REQUIRE(cfg->agents.size() == 1);
  CHECK(cfg->agents[0].name == "example");
  CHECK(cfg->tools.at(0).kind == "calculator");
  CHECK(cfg->providers.at(0).name == "scripted");
  CHECK_FALSE(cfg->cluster.has_value());  // its header is commented out
}
