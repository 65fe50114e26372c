#include "runtime/value.hpp"

#include <cmath>
#include <cstring>
#include <limits>

#include <msgpack.hpp>
#include <nlohmann/json.hpp>

#include "runtime/error.hpp"

namespace agentgraph {

double Value::as_double() const {
  if (is_int())
    return static_cast<double>(as_int());
  return std::get<double>(data_);
}

Value& Value::operator[](const std::string& key) {
  if (is_null())
    data_ = Object{};
  return std::get<Object>(data_)[key];
}

const Value* Value::find(const std::string& key) const {
  if (!is_object())
    return nullptr;
  const auto& obj = as_object();
  auto it = obj.find(key);
  return it == obj.end() ? nullptr : &it->second;
}

std::string Value::get_string(const std::string& key, std::string fallback) const {
  const Value* v = find(key);
  if (v == nullptr || !v->is_string())
    return fallback;
  return v->as_string();
}

void Value::push_back(Value v) {
  if (is_null())
    data_ = Array{};
  std::get<Array>(data_).push_back(std::move(v));
}

size_t Value::size() const {
  if (is_array())
    return as_array().size();
  if (is_object())
    return as_object().size();
  return 0;
}

size_t Value::heap_bytes() const {
  // Short strings live inside std::string (SSO, 15 chars in libstdc++).
  auto string_heap = [](const std::string& s) -> size_t {
    return s.capacity() > 15 ? s.capacity() + 1 : 0;
  };
  switch (kind()) {
    case Kind::string:
      return string_heap(as_string());
    case Kind::array: {
      const auto& arr = as_array();
      size_t total = arr.capacity() * sizeof(Value);
      for (const auto& v : arr)
        total += v.heap_bytes();
      return total;
    }
    case Kind::object: {
      // A std::map node holds the pair plus the red-black tree header
      // (colour + 3 pointers).
      constexpr size_t node_overhead = 4 * sizeof(void*);
      size_t total = 0;
      for (const auto& [k, v] : as_object())
        total += node_overhead + sizeof(std::pair<const std::string, Value>) + string_heap(k)
                 + v.heap_bytes();
      return total;
    }
    default:
      return 0;
  }
}

// --- JSON ------------------------------------------------------------------

namespace value_json {

nlohmann::json to_nlohmann(const Value& v) {
  switch (v.kind()) {
    case Value::Kind::null: return nullptr;
    case Value::Kind::boolean: return v.as_bool();
    case Value::Kind::integer: return v.as_int();
    case Value::Kind::number: {
      double d = v.as_double();
      // JSON has no NaN or infinity; null is what JSON.stringify writes too.
      if (!std::isfinite(d))
        return nullptr;
      return d;
    }
    case Value::Kind::string: return v.as_string();
    case Value::Kind::array: {
      auto out = nlohmann::json::array();
      for (const auto& x : v.as_array())
        out.push_back(to_nlohmann(x));
      return out;
    }
    case Value::Kind::object: {
      auto out = nlohmann::json::object();
      for (const auto& [k, x] : v.as_object())
        out[k] = to_nlohmann(x);
      return out;
    }
  }
  return nullptr;
}

// SAX handler that builds a Value directly and enforces Value::depth_max.
class builder : public nlohmann::json_sax<nlohmann::json> {
 public:
  Value result;
  std::string error_text;

  bool null() override { return put(Value{}); }
  bool boolean(bool b) override { return put(Value{b}); }
  bool number_integer(number_integer_t i) override { return put(Value{static_cast<int64_t>(i)}); }
  bool number_unsigned(number_unsigned_t u) override {
    if (u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
      return put(Value{static_cast<double>(u)});
    return put(Value{static_cast<int64_t>(u)});
  }
  bool number_float(number_float_t d, const string_t&) override { return put(Value{d}); }
  bool string(string_t& s) override { return put(Value{std::move(s)}); }
  bool binary(binary_t&) override {
    error_text = "binary values are not JSON";
    return false;
  }
  bool start_object(std::size_t) override { return open(Value::object()); }
  // A duplicate key is an error, not last-one-wins: two readers of the same
  // text (a proxy, a log, this parser) could otherwise act on different
  // values. The key is named, cut to key_shown_chars_max.
  bool key(string_t& k) override {
    if (stack_.back().find(k) != nullptr) {
      constexpr size_t key_shown_chars_max = 64;
      error_text = "duplicate key '" + k.substr(0, key_shown_chars_max)
                   + (k.size() > key_shown_chars_max ? "...'" : "'") + " in a JSON object";
      return false;
    }
    keys_.back() = std::move(k);
    return true;
  }
  bool end_object() override { return close(); }
  bool start_array(std::size_t) override { return open(Value::array()); }
  bool end_array() override { return close(); }
  bool parse_error(std::size_t pos, const std::string&, const nlohmann::detail::exception& ex) override {
    error_text = "invalid JSON at byte " + std::to_string(pos) + ": " + ex.what();
    return false;
  }

 private:
  bool open(Value container) {
    if (stack_.size() >= static_cast<size_t>(Value::depth_max)) {
      error_text = "JSON nesting deeper than " + std::to_string(Value::depth_max);
      return false;
    }
    stack_.push_back(std::move(container));
    keys_.emplace_back();
    return true;
  }
  bool close() {
    Value done = std::move(stack_.back());
    stack_.pop_back();
    keys_.pop_back();
    return put(std::move(done));
  }
  bool put(Value v) {
    if (stack_.empty()) {
      result = std::move(v);
      return true;
    }
    Value& top = stack_.back();
    if (top.is_array())
      top.push_back(std::move(v));
    else
      top[keys_.back()] = std::move(v);
    return true;
  }
  std::vector<Value> stack_;
  std::vector<std::string> keys_;
};

}  // namespace value_json

std::string Value::to_json() const {
  return value_json::to_nlohmann(*this).dump(-1, ' ', false,
                                            nlohmann::json::error_handler_t::replace);
}

std::string Value::to_json_pretty() const {
  return value_json::to_nlohmann(*this).dump(2, ' ', false,
                                            nlohmann::json::error_handler_t::replace);
}

caf::expected<Value> Value::from_json(std::string_view text) {
  value_json::builder sax;
  bool ok = nlohmann::json::sax_parse(text.begin(), text.end(), &sax,
                                      nlohmann::json::input_format_t::json, true);
  if (!ok)
    return make_error(errc::parse_error, sax.error_text.empty() ? "invalid JSON" : sax.error_text);
  return std::move(sax.result);
}

// --- msgpack ---------------------------------------------------------------

namespace value_msgpack {

// msgpack-c 4.x's pack_double writes a whole-valued double (42.0) as an
// integer, so a round trip would turn a number into an integer (and change
// Value equality, and a cached tool result). We always write float 64.
void pack_float64(msgpack::sbuffer& buf, double d) {
  uint64_t bits = 0;
  std::memcpy(&bits, &d, sizeof bits);
  char out[9];
  out[0] = static_cast<char>(0xcbu);
  for (int i = 0; i < 8; ++i)
    out[1 + i] = static_cast<char>((bits >> (56 - 8 * i)) & 0xffu);
  buf.write(out, sizeof out);
}

void pack(msgpack::sbuffer& buf, msgpack::packer<msgpack::sbuffer>& pk, const Value& v) {
  switch (v.kind()) {
    case Value::Kind::null: pk.pack_nil(); break;
    case Value::Kind::boolean: v.as_bool() ? pk.pack_true() : pk.pack_false(); break;
    case Value::Kind::integer: pk.pack_int64(v.as_int()); break;
    case Value::Kind::number: pack_float64(buf, v.as_double()); break;
    case Value::Kind::string: pk.pack(v.as_string()); break;
    case Value::Kind::array:
      pk.pack_array(static_cast<uint32_t>(v.as_array().size()));
      for (const auto& x : v.as_array())
        pack(buf, pk, x);
      break;
    case Value::Kind::object:
      pk.pack_map(static_cast<uint32_t>(v.as_object().size()));
      for (const auto& [k, x] : v.as_object()) {
        pk.pack(k);
        pack(buf, pk, x);
      }
      break;
  }
}

caf::expected<Value> convert(const msgpack::object& o, int depth) {
  if (depth > Value::depth_max)
    return make_error(errc::parse_error, "msgpack nesting deeper than "
                                             + std::to_string(Value::depth_max));
  switch (o.type) {
    case msgpack::type::NIL: return Value{};
    case msgpack::type::BOOLEAN: return Value{o.via.boolean};
    case msgpack::type::POSITIVE_INTEGER:
      if (o.via.u64 > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
        return Value{static_cast<double>(o.via.u64)};
      return Value{static_cast<int64_t>(o.via.u64)};
    case msgpack::type::NEGATIVE_INTEGER: return Value{static_cast<int64_t>(o.via.i64)};
    case msgpack::type::FLOAT32:
    case msgpack::type::FLOAT64: return Value{o.via.f64};
    case msgpack::type::STR: return Value{std::string{o.via.str.ptr, o.via.str.size}};
    case msgpack::type::ARRAY: {
      Value::Array arr;
      arr.reserve(o.via.array.size);
      for (uint32_t i = 0; i < o.via.array.size; ++i) {
        auto x = convert(o.via.array.ptr[i], depth + 1);
        if (!x)
          return x;
        arr.push_back(std::move(*x));
      }
      return Value{std::move(arr)};
    }
    case msgpack::type::MAP: {
      Value::Object obj;
      for (uint32_t i = 0; i < o.via.map.size; ++i) {
        const auto& kv = o.via.map.ptr[i];
        if (kv.key.type != msgpack::type::STR)
          return make_error(errc::parse_error, "msgpack map key is not a string");
        auto x = convert(kv.val, depth + 1);
        if (!x)
          return x;
        obj.insert_or_assign(std::string{kv.key.via.str.ptr, kv.key.via.str.size}, std::move(*x));
      }
      return Value{std::move(obj)};
    }
    default:
      return make_error(errc::parse_error, "msgpack type not representable as Value (bin/ext)");
  }
}

}  // namespace value_msgpack

std::string Value::to_msgpack() const {
  msgpack::sbuffer buf;
  msgpack::packer<msgpack::sbuffer> pk(&buf);
  value_msgpack::pack(buf, pk, *this);
  return std::string{buf.data(), buf.size()};
}

caf::expected<Value> Value::from_msgpack(std::string_view bytes) {
  try {
    std::size_t offset = 0;
    // The unpack limits bound the allocation a hostile header can request.
    msgpack::unpack_limit limit{1u << 20, 1u << 20, 64u << 20, 64u << 20, 1u << 20,
                                static_cast<std::size_t>(Value::depth_max) + 1};
    auto handle = msgpack::unpack(bytes.data(), bytes.size(), offset, nullptr, nullptr, limit);
    if (offset != bytes.size())
      return make_error(errc::parse_error, "trailing bytes after msgpack value");
    return value_msgpack::convert(handle.get(), 0);
  } catch (const std::exception& ex) {
    return make_error(errc::parse_error, std::string{"invalid msgpack: "} + ex.what());
  }
}

}  // namespace agentgraph
