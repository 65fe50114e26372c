// The one typed interface every LLM provider actor implements: the embedded
// `scripted` provider, the HTTP providers (openai / anthropic / gemini /
// openrouter / openai_compatible) and the fallback chain in front of them. It already carries what real providers need:
// messages with roles, tool definitions and tool calls, token usage,
// streamed chunks, embeddings, cancellation and errors. The message structs
// are in runtime/llm_types.hpp (shared with the wire codecs in net/).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <caf/atom.hpp>
#include <caf/meta/type_name.hpp>
#include <caf/typed_actor.hpp>

#include "actors/common_atoms.hpp"
#include "actors/provider/provider_stats.hpp"
#include "runtime/heartbeat.hpp"
#include "runtime/llm_types.hpp"
#include "runtime/value.hpp"

namespace agentgraph {

using chat_atom = caf::atom_constant<caf::atom("ag_chat")>;
using chat_stream_atom = caf::atom_constant<caf::atom("ag_chatstr")>;
using embed_atom = caf::atom_constant<caf::atom("ag_embed")>;
using cancel_atom = caf::atom_constant<caf::atom("ag_cancel")>;

// Receives stream chunks; any actor with this handler can be a stream sink.
using stream_sink_actor = caf::typed_actor<caf::reacts_to<stream_chunk>>;

using provider_actor = caf::typed_actor<
  // Reply: the whole answer. Errors: provider_error (bad or failed answer),
  // overloaded (queue full), unavailable (breaker open), timeout, cancelled.
  // Callers use the agent's request_timeout.
  caf::replies_to<chat_atom, chat_request>::with<chat_response>,
  // As chat, and each piece also goes to the sink as it arrives.
  caf::replies_to<chat_stream_atom, chat_request, stream_sink_actor>::with<chat_response>,
  // Reply: one vector per input. Errors as chat; unsupported if the
  // provider has no embeddings.
  caf::replies_to<embed_atom, embed_request>::with<embed_response>,
  // Cancels the request with this id; its caller gets `cancelled`.
  caf::reacts_to<cancel_atom, std::string>,
  // Counters and current state, for the CLI, metrics and operators. The
  // shared stats_atom, like every other kind (before issue 10 providers had
  // their own atom "ag_pstats": a peer built before then does not match).
  caf::replies_to<stats_atom>::with<provider_stats>,
  heartbeat_signature>;

}  // namespace agentgraph
