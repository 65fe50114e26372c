// Value: the one dynamic payload type (ARCHITECTURE §3.2). Task inputs, tool
// arguments, workflow state and gateway bodies are Values, never JSON strings
// or std::any. A Value converts to and from JSON (nlohmann) and msgpack, and
// CAF can inspect it, so it crosses nodes inside typed messages.
//
// Objects keep their keys sorted (std::map), so to_json() is canonical: two
// equal Values print the same text. Caches key on that.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <type_traits>
#include <variant>
#include <vector>

#include <caf/detail/stringification_inspector.hpp>
#include <caf/expected.hpp>
#include <caf/meta/load_callback.hpp>
#include <caf/meta/type_name.hpp>

namespace agentgraph {

class Value {
 public:
  using Array = std::vector<Value>;
  using Object = std::map<std::string, Value>;

  enum class Kind : uint8_t { null, boolean, integer, number, string, array, object };

  // Nesting deeper than this is rejected by every decoder: a hostile input
  // must not overflow the stack of the actor decoding it.
  static constexpr int depth_max = 64;

  Value() = default;
  Value(std::nullptr_t) {}
  Value(bool b) : data_(b) {}
  Value(int i) : data_(static_cast<int64_t>(i)) {}
  Value(long i) : data_(static_cast<int64_t>(i)) {}
  Value(long long i) : data_(static_cast<int64_t>(i)) {}
  Value(unsigned i) : data_(static_cast<int64_t>(i)) {}
  Value(double d) : data_(d) {}
  Value(const char* s) : data_(std::string{s}) {}
  Value(std::string s) : data_(std::move(s)) {}
  Value(std::string_view s) : data_(std::string{s}) {}
  Value(Array a) : data_(std::move(a)) {}
  Value(Object o) : data_(std::move(o)) {}

  [[nodiscard]] static Value object() { return Value{Object{}}; }
  [[nodiscard]] static Value array() { return Value{Array{}}; }

  [[nodiscard]] Kind kind() const { return static_cast<Kind>(data_.index()); }
  [[nodiscard]] bool is_null() const { return kind() == Kind::null; }
  [[nodiscard]] bool is_bool() const { return kind() == Kind::boolean; }
  [[nodiscard]] bool is_int() const { return kind() == Kind::integer; }
  [[nodiscard]] bool is_double() const { return kind() == Kind::number; }
  [[nodiscard]] bool is_number() const { return is_int() || is_double(); }
  [[nodiscard]] bool is_string() const { return kind() == Kind::string; }
  [[nodiscard]] bool is_array() const { return kind() == Kind::array; }
  [[nodiscard]] bool is_object() const { return kind() == Kind::object; }

  // Typed access. Calling the wrong one is a programmer error and aborts
  // (std::bad_variant_access); check kind() first for untrusted data.
  [[nodiscard]] bool as_bool() const { return std::get<bool>(data_); }
  [[nodiscard]] int64_t as_int() const { return std::get<int64_t>(data_); }
  // Integers widen to double; anything else is a programmer error.
  [[nodiscard]] double as_double() const;
  [[nodiscard]] const std::string& as_string() const { return std::get<std::string>(data_); }
  [[nodiscard]] const Array& as_array() const { return std::get<Array>(data_); }
  [[nodiscard]] Array& as_array() { return std::get<Array>(data_); }
  [[nodiscard]] const Object& as_object() const { return std::get<Object>(data_); }
  [[nodiscard]] Object& as_object() { return std::get<Object>(data_); }

  // Object member access. operator[] turns a null Value into an object first.
  Value& operator[](const std::string& key);
  // Returns nullptr if this is not an object or has no such key.
  [[nodiscard]] const Value* find(const std::string& key) const;
  // Convenience for reading optional fields of untrusted objects.
  [[nodiscard]] std::string get_string(const std::string& key, std::string fallback = {}) const;

  void push_back(Value v);
  // Number of elements of an array or object, 0 otherwise.
  [[nodiscard]] size_t size() const;

  // Heap bytes held by this Value and its children (not sizeof(Value)), for
  // memory accounting. Counts string capacities and container nodes.
  [[nodiscard]] size_t heap_bytes() const;

  friend bool operator==(const Value& a, const Value& b) { return a.data_ == b.data_; }
  friend bool operator!=(const Value& a, const Value& b) { return !(a == b); }

  // Canonical compact JSON (sorted keys).
  [[nodiscard]] std::string to_json() const;
  // Indented JSON for humans.
  [[nodiscard]] std::string to_json_pretty() const;
  // Errors: parse_error naming the byte offset, or when nesting exceeds depth_max.
  [[nodiscard]] static caf::expected<Value> from_json(std::string_view text);

  [[nodiscard]] std::string to_msgpack() const;
  // Errors: parse_error on truncated, trailing or unsupported msgpack input.
  [[nodiscard]] static caf::expected<Value> from_msgpack(std::string_view bytes);

 private:
  std::variant<std::monostate, bool, int64_t, double, std::string, Array, Object> data_;
};

// CAF inspection. On the wire a Value travels as one msgpack byte string,
// which is compact and lets a single decoder (with its depth limit) guard
// every path by which a Value enters a process. deep_to_string shows JSON.
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, Value& x) {
  if constexpr (std::is_same_v<Inspector, caf::detail::stringification_inspector>) {
    auto json = x.to_json();
    return f(caf::meta::type_name("agentgraph::Value"), json);
  } else if constexpr (Inspector::reads_state) {
    auto bytes = x.to_msgpack();
    return f(caf::meta::type_name("agentgraph::Value"), bytes);
  } else {
    std::string bytes;
    auto decode = caf::meta::load_callback([&]() -> caf::error {
      auto decoded = Value::from_msgpack(bytes);
      if (!decoded)
        return std::move(decoded.error());
      x = std::move(*decoded);
      return caf::none;
    });
    return f(caf::meta::type_name("agentgraph::Value"), bytes, decode);
  }
}

}  // namespace agentgraph
