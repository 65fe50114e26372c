#include "wire.hpp"

namespace agentgraph::mock_llm {

std::string chat_wire::stream_content_type(const chat_request&) const { return "text/event-stream; charset=utf-8"; }

std::string malform_body(std::string_view body) { return std::string{body.substr(0, body.size() / 2)}; }

std::string malform_event(std::string_view event) {
  const size_t data = event.find("data: ");
  if (data == std::string_view::npos) return malform_body(event);
  const size_t start = data + 6;
  size_t end = event.find_first_of("\r\n", start);
  if (end == std::string_view::npos) end = event.size();
  const size_t cut = start + (end - start) / 2;
  return std::string{event.substr(0, cut)} + std::string{event.substr(end)};
}

std::string json_type(const nlohmann::json& j) { return j.type_name(); }

}  // namespace agentgraph::mock_llm
