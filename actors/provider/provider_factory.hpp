// Builds the provider actor a [provider.<name>] section describes. Each kind
// keeps its own construction here, behind one function, so agents and the
// node only ever see a provider_actor.
#pragma once

#include <caf/actor_system.hpp>
#include <caf/expected.hpp>

#include "actors/provider/http_provider.hpp"
#include "actors/provider/provider_config.hpp"
#include "actors/provider/provider_interface.hpp"

namespace agentgraph {

// The kinds (provider_kinds, provider_config.hpp): the embedded `scripted`
// provider, the HTTP kinds (one pipeline, http_provider.hpp, with one
// wire codec each) and `replay` (replay_provider.hpp). With `record` set,
// any kind is wrapped in the recording provider (recording_provider.hpp).

// Spawns the provider. Reads the scripted rules file synchronously: call it
// from setup code (node start, Runtime construction, tests), never from an
// actor handler. HTTP kinds need `deps.http` (the Runtime shares one client
// between its providers); scripted uses only `deps.metrics`.
// Errors: invalid_argument (unknown kind, listing the known ones; scripted
// without `rules`; an HTTP kind without a key or client, see
// spawn_http_provider), and the errors of load_scripted_rules (io_error,
// parse_error, invalid_argument), of load_recording (replay) and of
// recording_writer::open (record). Reads and opens those files
// synchronously, like the rules file.
// What spawn_provider would refuse about `cfg` itself, without spawning:
// an unknown kind, scripted rules that do not load, an HTTP kind without
// its key (check_api_key), a replay recording that does not load. It does
// not open a `record` file (that would create it). Same errors, same messages; reads the rules file
// and the environment, so call it from setup code only.
[[nodiscard]] caf::error check_provider_startable(const provider_config& cfg);

[[nodiscard]] caf::expected<provider_actor> spawn_provider(caf::actor_system& sys,
                                                           const provider_config& cfg,
                                                           http_provider_deps deps = {});

}  // namespace agentgraph
