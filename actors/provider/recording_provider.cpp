#include "actors/provider/recording_provider.hpp"
#include "runtime/virtual_time.hpp"

#include <algorithm>

#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>

#include "actors/provider/recording_store.hpp"
#include "runtime/assert.hpp"
#include "runtime/error.hpp"
#include "runtime/log.hpp"
#include "runtime/metrics/series_ref.hpp"

namespace agentgraph {

namespace recording_provider_detail {

struct writer_state {
  static inline const char* name = "recording_writer";
  std::shared_ptr<recording_writer> file;  // only this actor's thread touches it
  std::shared_ptr<recording_counters> counters;
  std::string provider;
};

// Runs on its own thread (spawn_blocking_worker: detached, except under
// the simulator's virtual time): the blocking append is
// allowed here. Serves rows in arrival order, so the file's order is the
// order calls completed in.
recording_writer_actor::behavior_type
writer(recording_writer_actor::stateful_pointer<writer_state> self,
       std::shared_ptr<recording_writer> file, std::shared_ptr<recording_counters> counters,
       std::string provider) {
  auto& st = self->state;
  st.file = std::move(file);
  st.counters = std::move(counters);
  st.provider = std::move(provider);
  return {
    [self](record_row_atom, const recording_row& row) {
      auto& st = self->state;
      auto err = st.file->append(row);
      st.counters->queued.fetch_sub(1, std::memory_order_relaxed);
      if (!err) {
        st.counters->written.fetch_add(1, std::memory_order_relaxed);
        return;
      }
      if (st.counters->write_failed.fetch_add(1, std::memory_order_relaxed) == 0)
        log(log_severity::error, "provider/record",
            "cannot append to the recording; later failures are only counted",
            {{"provider", st.provider}, {"error", describe(err)}});
    },
  };
}

using self_ptr = recording_provider_actor::stateful_pointer<recording_provider_state>;

int64_t micros_since(self_ptr self, caf::actor_clock::time_point started) {
  return std::chrono::duration_cast<std::chrono::microseconds>(self->clock().now() - started)
    .count();
}

// Queues `r` for the writer, or drops and counts it when the queue is full.
void store(self_ptr self, call_record r) {
  auto& st = self->state;
  r.provider = st.provider;
  r.recorded_unix_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count();
  if (st.counters->queued.load(std::memory_order_relaxed) >= st.queue_max) {
    if (st.dropped++ == 0)
      log(log_severity::warn, "provider/record",
          "recording queue full (record_queue_max): records dropped; later drops are only counted",
          {{"provider", st.provider}, {"path", st.path}});
    metrics::inc(st.dropped_total);
    return;
  }
  st.counters->queued.fetch_add(1, std::memory_order_relaxed);
  self->send(st.writer, record_row_atom::value, encode_recording_row(r));
}

// The caller's error, and its record: our code with its context, a foreign
// error as provider_error with CAF's words. Cancellations are not recorded.
void record_failure(self_ptr self, call_record r, const caf::error& err) {
  auto code = errc_of(err);
  if (code == errc::cancelled)
    return;
  r.error_code = code.value_or(errc::provider_error);
  r.error_text = code ? error_context(err) : describe(err);
  store(self, std::move(r));
}

caf::error caller_error(self_ptr self, caf::error err) {
  const auto& st = self->state;
  return from_request_error(std::move(err), "provider '" + st.provider + "'", st.call_timeout);
}

call_record begin_record(const std::string& hash, recorded_call call, const std::string& model) {
  call_record r;
  r.request_hash = hash;
  r.call = call;
  r.model = model;
  return r;
}

caf::error refuse_if_full(self_ptr self) {
  auto& st = self->state;
  if (st.watch.size() < st.calls_max)
    return caf::none;
  return make_error(errc::overloaded, "provider '" + st.provider + "' (recording): "
                                        + std::to_string(st.calls_max) + " calls in flight");
}

caf::result<chat_response> chat(self_ptr self, chat_request& req, stream_sink_actor sink) {
  auto& st = self->state;
  if (auto err = refuse_if_full(self))
    return err;
  const auto started = self->clock().now();
  const bool streamed = static_cast<bool>(sink);
  // A second open stream under one id keeps its caller's sink (unrecorded
  // chunks): the wrapper could not tell the two streams' chunks apart.
  const bool watch_chunks = streamed && st.streams.count(req.request_id) == 0;
  auto rec = begin_record(chat_request_hash(req),
                          streamed ? recorded_call::chat_stream : recorded_call::chat, req.model);
  auto rp = self->make_response_promise<chat_response>();
  auto id = req.request_id;
  auto finish = [self, id, watch_chunks](call_record& r) {
    if (!watch_chunks)
      return;
    auto it = self->state.streams.find(id);
    AG_ASSERT(it != self->state.streams.end());
    r.chunks = std::move(it->second.chunks);
    if (!r.chunks.empty())
      r.ttft_us = r.chunks.front().offset_us;
    self->state.streams.erase(it);
  };
  auto on_reply = [self, rp, rec, started, finish](chat_response& resp) mutable {
    finish(rec);
    rec.latency_us = micros_since(self, started);
    rec.chat = resp;
    store(self, std::move(rec));
    rp.deliver(std::move(resp));
  };
  auto on_error = [self, rp, rec, started, finish](caf::error& err) mutable {
    finish(rec);
    rec.latency_us = micros_since(self, started);
    auto out = caller_error(self, std::move(err));
    record_failure(self, std::move(rec), out);
    rp.deliver(std::move(out));
  };
  const auto deadline = started + st.call_timeout;
  if (!streamed) {
    watched_request(self, st.watch, st.inner, deadline, std::move(on_reply), std::move(on_error),
                    chat_atom::value, std::move(req));
    return rp;
  }
  if (watch_chunks) {
    st.streams.emplace(id, recording_provider_state::open_stream{sink, started, {}});
    sink = caf::actor_cast<stream_sink_actor>(self);
  }
  watched_request(self, st.watch, st.inner, deadline, std::move(on_reply), std::move(on_error),
                  chat_stream_atom::value, std::move(req), std::move(sink));
  return rp;
}

caf::result<embed_response> embed(self_ptr self, embed_request& req) {
  auto& st = self->state;
  if (auto err = refuse_if_full(self))
    return err;
  const auto started = self->clock().now();
  auto rec = begin_record(embed_request_hash(req), recorded_call::embed, req.model);
  auto rp = self->make_response_promise<embed_response>();
  watched_request(
    self, st.watch, st.inner, started + st.call_timeout,
    [self, rp, rec, started](embed_response& resp) mutable {
      rec.latency_us = micros_since(self, started);
      rec.embed = resp;
      store(self, std::move(rec));
      rp.deliver(std::move(resp));
    },
    [self, rp, rec, started](caf::error& err) mutable {
      rec.latency_us = micros_since(self, started);
      auto out = caller_error(self, std::move(err));
      record_failure(self, std::move(rec), out);
      rp.deliver(std::move(out));
    },
    embed_atom::value, std::move(req));
  return rp;
}

// A chunk from the inner provider: noted with its offset, then passed on.
void on_chunk(self_ptr self, stream_chunk& chunk) {
  auto& streams = self->state.streams;
  auto it = streams.find(chunk.request_id);
  if (it == streams.end())
    return;  // its call already ended (a late chunk): the caller got its answer
  auto& s = it->second;
  add_recorded_chunk(s.chunks, {micros_since(self, s.started), chunk.delta_text, chunk.tool_calls});
  self->send(s.sink, std::move(chunk));
}

caf::result<provider_stats> stats(self_ptr self) {
  auto rp = self->make_response_promise<provider_stats>();
  self->request(self->state.inner, recording_stats_timeout, stats_atom::value)
    .then(
      [self, rp](provider_stats& s) mutable {
        const auto& st = self->state;
        s.records_written = st.counters->written.load(std::memory_order_relaxed);
        s.records_dropped = st.dropped;
        rp.deliver(std::move(s));
      },
      [self, rp](caf::error& err) mutable {
        rp.deliver(from_request_error(std::move(err), "provider '" + self->state.provider + "'",
                                      recording_stats_timeout));
      });
  return rp;
}

}  // namespace recording_provider_detail

recording_provider_actor::behavior_type
recording_provider(recording_provider_actor::stateful_pointer<recording_provider_state> self,
                   provider_config cfg, provider_actor inner,
                   std::shared_ptr<recording_writer> writer,
                   std::shared_ptr<metrics::registry> registry) {
  using namespace recording_provider_detail;
  auto& st = self->state;
  st.provider = cfg.name;
  st.path = cfg.record;
  st.queue_max = cfg.record_queue_max;
  st.call_timeout = cfg.request_deadline + recording_deadline_margin;
  st.calls_max = std::max<size_t>(recording_calls_min,
                                  size_t{cfg.in_flight_max} + size_t{cfg.waiting_max});
  st.watch = call_watch{st.calls_max};
  st.inner = std::move(inner);
  st.counters = std::make_shared<recording_counters>();
  st.registry = std::move(registry);
  st.dropped_total = metrics::counter_of(
    st.registry.get(), "agentgraph_provider_records_dropped_total",
    "Provider calls not recorded because the recording's writer queue was full.", {"provider"},
    {cfg.name});
  st.writer = spawn_blocking_worker<caf::linked>(self, recording_provider_detail::writer,
                                                       std::move(writer), st.counters, cfg.name);
  self->link_to(st.inner);
  route_to_watch(self, &recording_provider_state::watch);
  return {
    [self](chat_atom, chat_request& req) -> caf::result<chat_response> {
      return chat(self, req, {});
    },
    [self](chat_stream_atom, chat_request& req,
           stream_sink_actor& sink) -> caf::result<chat_response> {
      if (!sink)
        return make_error(errc::invalid_argument, "chat_stream needs a valid stream sink");
      return chat(self, req, std::move(sink));
    },
    [self](embed_atom, embed_request& req) -> caf::result<embed_response> {
      return embed(self, req);
    },
    [self](cancel_atom, const std::string& id) {
      self->send(self->state.inner, cancel_atom::value, id);
    },
    [self](stats_atom) { return stats(self); },
    [self](stream_chunk& chunk) { on_chunk(self, chunk); },
    [](ping_atom) { return pong_atom::value; },
  };
}

caf::expected<provider_actor> spawn_recording_provider(caf::actor_system& sys,
                                                       const provider_config& cfg,
                                                       provider_actor inner,
                                                       std::shared_ptr<metrics::registry> registry) {
  if (!inner)
    return make_error(errc::invalid_argument,
                      "provider '" + cfg.name + "': record mode needs a provider to record");
  auto file = recording_writer::open(cfg.record);
  if (!file)
    return make_error(errc_of(file.error()).value_or(errc::io_error),
                      "provider '" + cfg.name + "': record: " + error_context(file.error()));
  std::shared_ptr<recording_writer> shared{std::move(*file)};
  return provider_actor{sys.spawn(recording_provider, cfg, std::move(inner), std::move(shared),
                                  std::move(registry))};
}

}  // namespace agentgraph
