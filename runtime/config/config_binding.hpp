// How a config key lands in a plain struct: each component declares its keys
// as a table of fields (a key_spec and the struct member it fills), beside
// its own *_config.hpp, and the node's composition (actors/host/node_config)
// assembles the tables into sections. A key and its member are one table
// row, so no key can exist without an effect and no member can be forgotten
// by the binding.
//
//   const std::vector<field<memory_config>>& memory_fields() {
//     static const auto fields = [] {
//       using S = memory_config;
//       const S d;  // the defaults come from the struct's initialisers
//       return std::vector<field<S>>{
//           bind(uint_key("max_entries", d.max_entries, 1, 10'000'000, "..."),
//                &S::max_entries), ...};
//     }();
//     return fields;
//   }
//
// bind() picks the conversion by the member's type through assign(): the
// overloads below cover the generic types; a component whose struct has an
// enum member declares `void assign(E&, const config_value&)` in namespace
// agentgraph next to its table (found by argument-dependent lookup), usually
// as `f = enum_from(all_es, v)`.
// Setup code only: the tables are built once and never change.
#pragma once

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "runtime/config/config_resolve.hpp"
#include "runtime/config/config_schema.hpp"
#include "runtime/config/config_value.hpp"

namespace agentgraph {

// Binary mebibyte, for byte bounds in key tables ("64 * mib").
inline constexpr uint64_t mib = uint64_t{1} << 20;

// One key and how it lands in struct S.
template <class S>
struct field {
  key_spec spec;
  std::function<void(S&, const config_value&)> assign;
};

// The enum's words in the order of `all`: the choices of its schema key.
template <class E, size_t N>
[[nodiscard]] std::vector<std::string> enum_words(const E (&all)[N]) {
  std::vector<std::string> out;
  for (auto e : all)
    out.emplace_back(to_string(e));
  return out;
}

// The enum value a validated word names. The schema only lets declared
// words through, so any other word is a bug in the table: abort.
template <class E, size_t N>
[[nodiscard]] E enum_from(const E (&all)[N], const config_value& v) {
  const auto& word = std::get<std::string>(v);
  for (auto e : all)
    if (word == to_string(e))
      return e;
  std::fprintf(stderr, "agentgraph: config binding bug: enum word '%s'\n", word.c_str());
  std::abort();
}

// Conversions from the schema's value types to the member types. Narrowing
// casts are safe because bind() checks that the key's bounds fit the member.
inline void assign(std::string& f, const config_value& v) {
  f = std::get<std::string>(v);
}
inline void assign(bool& f, const config_value& v) {
  f = std::get<bool>(v);
}
inline void assign(int32_t& f, const config_value& v) {
  f = static_cast<int32_t>(std::get<int64_t>(v));
}
inline void assign(uint32_t& f, const config_value& v) {
  f = static_cast<uint32_t>(std::get<uint64_t>(v));
}
inline void assign(uint64_t& f, const config_value& v) {
  f = std::get<uint64_t>(v);
}
inline void assign(double& f, const config_value& v) {
  f = std::get<double>(v);
}
inline void assign(std::optional<double>& f, const config_value& v) {
  f = std::get<double>(v);
}
inline void assign(std::chrono::milliseconds& f, const config_value& v) {
  f = std::get<config_duration>(v);
}
inline void assign(std::vector<std::string>& f, const config_value& v) {
  f = std::get<config_list>(v);
}
inline void assign(std::map<std::string, uint32_t>& f, const config_value& v) {
  f.clear();
  for (const auto& [k, n] : std::get<config_uint_map>(v))
    f.emplace(k, static_cast<uint32_t>(n));
}

// Integral members narrower than the schema's 64-bit values must have
// bounds that fit, or a valid config could overflow the member. Checked
// when the table is built, so a bad row aborts every start (and every test).
template <class F>
void check_fits(const key_spec& spec) {
  using T = std::conditional_t<std::is_same_v<F, std::map<std::string, uint32_t>>, uint32_t, F>;
  if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>) {
    bool fits = spec.rules.max && *spec.rules.max <= std::numeric_limits<T>::max()
                && spec.rules.min && *spec.rules.min >= std::numeric_limits<T>::min();
    if (!fits) {
      std::fprintf(stderr, "agentgraph: config schema bug: %s: bounds exceed the field\n",
                   spec.name.c_str());
      std::abort();
    }
  }
}

template <class S, class F>
[[nodiscard]] field<S> bind(key_spec spec, F S::*member) {
  check_fits<F>(spec);
  return field<S>{std::move(spec), [member](S& s, const config_value& v) { assign(s.*member, v); }};
}

// The table's keys, in table order: a section's key list.
template <class S>
[[nodiscard]] std::vector<key_spec> keys_of(const std::vector<field<S>>& fields) {
  std::vector<key_spec> out;
  for (const auto& f : fields)
    out.push_back(f.spec);
  return out;
}

// Fills `out` from a resolved section; keys the section lacks keep the
// struct's values.
template <class S>
void bind_section(const config_section& sec, const std::vector<field<S>>& fields, S& out) {
  for (const auto& f : fields)
    if (auto e = sec.find(f.spec.name))
      f.assign(out, e->value);
}

// Named sections [family.<name>] become list entries, in file order, with
// `name` set from the section name.
template <class S>
[[nodiscard]] std::vector<S> bind_family(const config_tree& tree, std::string_view family,
                                         const std::vector<field<S>>& fields) {
  std::vector<S> out;
  for (const auto* sec : tree.family(family)) {
    S s;
    bind_section(*sec, fields, s);
    s.name = sec->instance;
    out.push_back(std::move(s));
  }
  return out;
}

}  // namespace agentgraph
