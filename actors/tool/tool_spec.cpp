// to_definition and validate_arguments (declared in tool_interface.hpp): the
// JSON Schema a model sees for a tool, and the check that the model's
// arguments match it before any tool does work.
#include "actors/tool/tool_interface.hpp"

#include <optional>
#include <string>

#include "runtime/error.hpp"

namespace agentgraph {

namespace tool_spec_detail {

// Whether `v` has the JSON Schema type `type`. "integer" accepts integers
// only; "number" accepts integers too, as JSON Schema does (7 is a number).
// Returns nothing for a type name this function does not know.
std::optional<bool> has_schema_type(const Value& v, const std::string& type) {
  if (type == "string")
    return v.is_string();
  if (type == "integer")
    return v.is_int();
  if (type == "number")
    return v.is_number();
  if (type == "boolean")
    return v.is_bool();
  if (type == "object")
    return v.is_object();
  if (type == "array")
    return v.is_array();
  return std::nullopt;
}

const tool_param* find_param(const tool_spec& spec, const std::string& name) {
  for (const auto& p : spec.params)
    if (p.name == name)
      return &p;
  return nullptr;
}

std::string kind_name(const Value& v) {
  switch (v.kind()) {
    case Value::Kind::null: return "null";
    case Value::Kind::boolean: return "boolean";
    case Value::Kind::integer: return "integer";
    case Value::Kind::number: return "number";
    case Value::Kind::string: return "string";
    case Value::Kind::array: return "array";
    case Value::Kind::object: return "object";
  }
  return "unknown";
}

}  // namespace tool_spec_detail

tool_definition to_definition(const tool_spec& spec) {
  Value properties = Value::object();
  Value required = Value::array();
  for (const auto& p : spec.params) {
    Value prop = Value::object();
    prop["type"] = p.type;
    if (!p.description.empty())
      prop["description"] = p.description;
    properties[p.name] = std::move(prop);
    if (p.required)
      required.push_back(p.name);
  }
  Value schema = Value::object();
  schema["type"] = "object";
  schema["properties"] = std::move(properties);
  schema["required"] = std::move(required);
  // Models invent parameters; refusing extras up front makes them retry with
  // the declared ones instead of having the tool silently ignore them.
  schema["additionalProperties"] = false;
  return tool_definition{spec.name, spec.description, std::move(schema)};
}

caf::error validate_arguments(const tool_spec& spec, const Value& args) {
  using namespace tool_spec_detail;
  const std::string prefix = "tool '" + spec.name + "': ";
  if (!args.is_object())
    return make_error(errc::invalid_argument,
                      prefix + "arguments must be an object, got " + kind_name(args));
  for (const auto& p : spec.params)
    if (p.required && args.find(p.name) == nullptr)
      return make_error(errc::invalid_argument,
                        prefix + "missing required parameter '" + p.name + "'");
  for (const auto& [key, value] : args.as_object()) {
    const auto* p = find_param(spec, key);
    if (p == nullptr)
      return make_error(errc::invalid_argument, prefix + "unknown parameter '" + key + "'");
    auto ok = has_schema_type(value, p->type);
    if (!ok)
      return make_error(errc::invalid_argument, prefix + "parameter '" + key
                                                  + "' declares unknown type '" + p->type + "'");
    if (!*ok)
      return make_error(errc::invalid_argument, prefix + "parameter '" + key + "' must be "
                                                  + p->type + ", got " + kind_name(value));
  }
  return caf::none;
}

}  // namespace agentgraph
