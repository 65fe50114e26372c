#include "actors/provider/embed_batch.hpp"

#include "runtime/assert.hpp"
#include "runtime/error.hpp"

namespace agentgraph {

embed_slice embed_batch::add(std::vector<std::string> inputs) {
  embed_slice slice{inputs_.size(), inputs.size(), 0};
  for (auto& text : inputs) {
    slice.chars += text.size();
    inputs_.push_back(std::move(text));
  }
  slices_.push_back(slice);
  // Slices tile the inputs in order, so split_embed_response can cut by them.
  AG_ASSERT(slices_.back().offset + slices_.back().count == inputs_.size());
  return slice;
}

embed_request embed_batch::take(const embed_batch_key& key) {
  embed_request req{key.model, std::move(inputs_), key.dimensions};
  inputs_.clear();
  slices_.clear();
  return req;
}

caf::expected<std::vector<embed_response>>
split_embed_response(embed_response whole, const std::vector<embed_slice>& slices) {
  size_t inputs = 0;
  size_t chars = 0;
  for (const auto& s : slices) {
    inputs += s.count;
    chars += s.chars;
  }
  if (whole.vectors.size() != inputs)
    return make_error(errc::provider_error,
                      "embedding answer holds " + std::to_string(whole.vectors.size())
                        + " vectors for " + std::to_string(inputs) + " inputs");
  std::vector<embed_response> out;
  out.reserve(slices.size());
  const int64_t total = whole.usage.prompt_tokens;
  int64_t given = 0;
  for (size_t i = 0; i < slices.size(); ++i) {
    const auto& s = slices[i];
    AG_ASSERT(s.offset + s.count <= whole.vectors.size());  // checked against the sum above
    embed_response part;
    part.vectors.assign(std::make_move_iterator(whole.vectors.begin() + s.offset),
                        std::make_move_iterator(whole.vectors.begin() + s.offset + s.count));
    int64_t share = 0;
    if (i + 1 == slices.size())
      share = total - given;  // the remainder: shares sum to the total exactly
    else if (chars > 0)
      share = total * static_cast<int64_t>(s.chars) / static_cast<int64_t>(chars);
    else
      share = total / static_cast<int64_t>(slices.size());
    part.usage.prompt_tokens = share;
    given += share;
    out.push_back(std::move(part));
  }
  return out;
}

}  // namespace agentgraph
