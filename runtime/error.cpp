#include "runtime/error.hpp"

#include <caf/message.hpp>
#include <caf/sec.hpp>

namespace agentgraph {

const char* to_string(errc code) {
  switch (code) {
    case errc::none: return "none";
    case errc::timeout: return "timeout";
    case errc::overloaded: return "overloaded";
    case errc::unavailable: return "unavailable";
    case errc::invalid_argument: return "invalid_argument";
    case errc::not_found: return "not_found";
    case errc::provider_error: return "provider_error";
    case errc::tool_error: return "tool_error";
    case errc::sandbox_violation: return "sandbox_violation";
    case errc::limit_exceeded: return "limit_exceeded";
    case errc::parse_error: return "parse_error";
    case errc::io_error: return "io_error";
    case errc::unsupported: return "unsupported";
    case errc::cancelled: return "cancelled";
    case errc::internal: return "internal";
    case errc::conflict: return "conflict";
    case errc::unauthorized: return "unauthorized";
  }
  return "unknown";
}

caf::error make_error(errc code, std::string context) {
  return caf::error{static_cast<uint8_t>(code), error_category,
                    caf::make_message(std::move(context))};
}

std::optional<errc> errc_of(const caf::error& err) {
  if (!err || err.category() != error_category)
    return std::nullopt;
  return static_cast<errc>(err.code());
}

std::string error_context(const caf::error& err) {
  if (!errc_of(err))
    return {};
  const auto& ctx = err.context();
  if (ctx.size() == 1 && ctx.match_element<std::string>(0))
    return ctx.get_as<std::string>(0);
  return {};
}

std::string describe(const caf::error& err) {
  if (!err)
    return "none";
  if (auto code = errc_of(err)) {
    std::string out = to_string(*code);
    auto ctx = error_context(err);
    if (!ctx.empty()) {
      out += ": ";
      out += ctx;
    }
    return out;
  }
  if (err == caf::sec::request_timeout)
    return "timeout: request deadline passed";
  return caf::to_string(err);
}

bool is_retryable(const caf::error& err) {
  if (err == caf::sec::request_timeout)
    return true;
  auto code = errc_of(err);
  if (!code)
    return false;
  switch (*code) {
    case errc::timeout:
    case errc::overloaded:
    case errc::unavailable:
    case errc::provider_error:
    case errc::io_error:
      return true;
    default:
      return false;
  }
}

namespace error_detail {

// `deadline` completes "<subject> gave no reply ...".
caf::error map_request_error(caf::error err, std::string_view subject, std::string_view deadline) {
  if (err == caf::sec::request_timeout)
    return make_error(errc::timeout,
                      std::string{subject} + " gave no reply " + std::string{deadline});
  if (err == caf::sec::request_receiver_down)
    return make_error(errc::unavailable, std::string{subject} + " is down");
  return err;
}

}  // namespace error_detail

caf::error from_request_error(caf::error err, std::string_view subject) {
  return error_detail::map_request_error(std::move(err), subject, "in time");
}

caf::error from_request_error(caf::error err, std::string_view subject,
                              std::chrono::milliseconds timeout) {
  return error_detail::map_request_error(std::move(err), subject,
                                         "within " + std::to_string(timeout.count()) + " ms");
}

caf::error from_worker_error(const caf::error& err, std::string_view subject,
                             std::chrono::milliseconds timeout, errc failure) {
  if (errc_of(err))
    return err;
  if (err == caf::sec::request_timeout)
    return from_request_error(err, subject, timeout);
  return make_error(failure, std::string{subject} + " failed: " + describe(err));
}

}  // namespace agentgraph
