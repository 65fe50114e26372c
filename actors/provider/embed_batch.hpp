// Embedding batching: requests for the same model and vector length that
// arrive within a short window travel upstream as one request (vendors take
// up to 2048 inputs per call, and one round trip beats many), and the
// answer is split back so each
// caller gets exactly its own vectors. Pure; the provider actor owns the
// window timer and the callers' promises.
#pragma once

#include <compare>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include <caf/expected.hpp>

#include "runtime/llm_types.hpp"

namespace agentgraph {

// What requests must share to travel in one batch: the model, and the
// vector length asked for (one upstream request carries one `dimensions`,
// so a 256-float caller batched with a model-default caller would get the
// other's length).
struct embed_batch_key {
  std::string model;
  uint32_t dimensions = 0;
  auto operator<=>(const embed_batch_key&) const = default;
};

// One caller's part of a batch: its inputs are [offset, offset + count).
struct embed_slice {
  size_t offset = 0;
  size_t count = 0;
  size_t chars = 0;  // its share of the batch's text, for splitting usage
};

class embed_batch {
 public:
  // True if `count` more inputs keep the batch within `inputs_max`.
  [[nodiscard]] bool fits(size_t count, size_t inputs_max) const {
    return inputs_.size() + count <= inputs_max;
  }
  // Appends one caller's inputs; returns its slice.
  embed_slice add(std::vector<std::string> inputs);
  [[nodiscard]] bool empty() const { return inputs_.empty(); }
  [[nodiscard]] size_t size() const { return inputs_.size(); }
  [[nodiscard]] const std::vector<embed_slice>& slices() const { return slices_; }
  // The upstream request; leaves the batch empty.
  [[nodiscard]] embed_request take(const embed_batch_key& key);

 private:
  std::vector<std::string> inputs_;
  std::vector<embed_slice> slices_;
};

// Splits one upstream answer back into one answer per slice, in slice order.
// Prompt tokens are shared in proportion to each slice's characters (vendors
// report one total per request); the shares add up to the total exactly.
// Errors: provider_error when the answer does not hold one vector per input
// (a vendor bug must not hand one caller another caller's vectors).
[[nodiscard]] caf::expected<std::vector<embed_response>>
split_embed_response(embed_response whole, const std::vector<embed_slice>& slices);

}  // namespace agentgraph
