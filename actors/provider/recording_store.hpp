// A provider recording on disk: one SQLite file (WAL) with a format table
// and one row per completed call (recording_codec.hpp says what a row
// holds). recording_writer appends rows (record mode's writer thread owns
// one); load_recording reads a whole file into memory for the replay
// provider, at spawn. Both block: call them from setup code or a detached
// actor, never from a scheduler thread.
//
// File layout (version 1):
//   recording_format(format TEXT, version INTEGER)   one row:
//                                                     'agentgraph provider recording', 1
//   recording_calls(seq INTEGER PRIMARY KEY AUTOINCREMENT, request_hash, call,
//                   provider, model, error_code, error_text, response BLOB,
//                   chunks BLOB, ttft_us, latency_us, prompt_tokens,
//                   completion_tokens, recorded_unix_ms)
// seq is the recorded order; the replay answers one request's records in it.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include <caf/expected.hpp>

#include "actors/provider/recording_codec.hpp"

namespace agentgraph {

// The format row's text; a file without it is not a recording.
inline constexpr const char* recording_format_name = "agentgraph provider recording";
inline constexpr int64_t recording_format_version = 1;

// Appends rows to a recording, creating the file (and its directory) when
// missing. Not thread-safe: one thread (the writer actor) uses it.
class recording_writer {
 public:
  // Errors: io_error (cannot create or open), parse_error (not SQLite, or a
  // SQLite file that is not a recording, or another format version).
  [[nodiscard]] static caf::expected<std::unique_ptr<recording_writer>>
  open(const std::string& path);

  ~recording_writer();
  recording_writer(const recording_writer&) = delete;
  recording_writer& operator=(const recording_writer&) = delete;

  // One row, one transaction. Errors: io_error (disk full, locked past the
  // busy timeout).
  [[nodiscard]] caf::error append(const recording_row& row);

  [[nodiscard]] const std::string& path() const;

 private:
  struct impl;
  explicit recording_writer(std::unique_ptr<impl> p);
  std::unique_ptr<impl> impl_;
};

// A recording in memory: every record by request hash, each list in
// recorded order. Immutable once loaded; replay providers share it.
struct recording {
  std::string path;
  std::unordered_map<std::string, std::vector<call_record>> by_hash;
  size_t entries = 0;
};

// Reads the whole file. Errors, each naming the file (and the row, by its
// seq, for a bad row): io_error (missing or unreadable), parse_error (not
// SQLite, truncated or damaged, no format row, another version, a row that
// does not decode), invalid_argument (more than `entries_max` rows: the
// file is refused, not cut).
[[nodiscard]] caf::expected<recording> load_recording(const std::string& path,
                                                      uint64_t entries_max);

}  // namespace agentgraph
