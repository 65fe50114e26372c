#include "runtime/register_types.hpp"

#include "runtime/checkpoint/checkpoint_actor.hpp"
#include "runtime/error.hpp"
#include "runtime/journal/journal_actor.hpp"
#include "runtime/population/population_store_actor.hpp"
#include "runtime/value.hpp"

namespace agentgraph {

void register_runtime_types(caf::actor_system_config& cfg) {
  cfg.add_message_type<Value>("agentgraph::Value");
  cfg.add_message_type<checkpoint>("agentgraph::checkpoint");
  cfg.add_message_type<std::vector<checkpoint>>("std::vector<agentgraph::checkpoint>");
  cfg.add_message_type<checkpoint_actor>("agentgraph::checkpoint_actor");
  cfg.add_message_type<task_state>("agentgraph::task_state");
  cfg.add_message_type<std::vector<uint8_t>>("std::vector<uint8_t>");
  cfg.add_message_type<journal_record>("agentgraph::journal_record");
  cfg.add_message_type<std::vector<journal_record>>("std::vector<agentgraph::journal_record>");
  cfg.add_message_type<accept_outcome>("agentgraph::accept_outcome");
  cfg.add_message_type<journal_actor>("agentgraph::journal_actor");
  // std::vector<std::string> is one of CAF's builtin types ("@strvec").
  cfg.add_message_type<population_claim>("agentgraph::population_claim");
  cfg.add_message_type<std::vector<population_claim>>("std::vector<agentgraph::population_claim>");
  cfg.add_message_type<population_save>("agentgraph::population_save");
  cfg.add_message_type<std::vector<population_save>>("std::vector<agentgraph::population_save>");
  cfg.add_message_type<population_store_actor>("agentgraph::population_store_actor");
  cfg.add_error_category(error_category, [](uint8_t code, caf::atom_value, const caf::message& msg) {
    std::string out = "agentgraph::";
    out += to_string(static_cast<errc>(code));
    std::string ctx;
    if (msg.size() == 1 && msg.match_element<std::string>(0))
      ctx = msg.get_as<std::string>(0);
    if (!ctx.empty()) {
      out += "(";
      out += ctx;
      out += ")";
    }
    return out;
  });
}

}  // namespace agentgraph
