// Continuous-batching generation over an InferenceCache; see engine.h.
#include "rollout/engine.h"

#include <algorithm>
#include <chrono>

#include "core/error.h"
#include "core/torch/device.h"

namespace grpo::rollout {
namespace {

double seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

}  // namespace

struct RolloutEngine::Slot {
  bool active = false;
  int64_t request = -1, sample = -1;
  int64_t last_token = 0;
  Completion completion;
};

struct RolloutEngine::Waiting {
  int64_t request;
  const GenerationRequest* req;
};

RolloutEngine::RolloutEngine(model::CausalLM policy, EngineOptions options)
    : policy_(std::move(policy)), options_(std::move(options)), device_(torch::kCPU) {
  require(options_.slots > 0, "rollout engine needs at least one slot");
  require(options_.max_len > 1, "rollout engine max_len must be > 1");
  const auto params = policy_->parameters();
  require(!params.empty(), "rollout engine: the policy has no parameters");
  device_ = params.front().device();
  cache_ = std::make_unique<model::InferenceCache>(policy_->config(), options_.slots, options_.max_len,
                                                   params.front().options());
}

int64_t RolloutEngine::cache_bytes() const {
  int64_t total = 0;
  for (const auto* group : {&cache_->keys(), &cache_->values(), &cache_->latents()})
    for (const auto& t : *group) total += t.numel() * t.element_size();
  return total;
}

GenerationResult RolloutEngine::generate(const std::vector<GenerationRequest>& requests, uint64_t seed,
                                         const ProgressFn& progress) {
  torch::NoGradGuard no_grad;
  GenerationResult result;
  result.completions.resize(requests.size());
  requests_ = &requests;
  matchers_.clear();
  std::vector<Waiting> waiting;
  for (size_t r = 0; r < requests.size(); ++r) {
    const auto& req = requests[r];
    require(req.n >= 1, "generation request " + std::to_string(r) + ": n must be >= 1");
    require(req.n <= options_.slots, "generation request " + std::to_string(r) + ": n = " + std::to_string(req.n) +
                                         " exceeds the engine's " + std::to_string(options_.slots) + " slots");
    require(!req.prompt_ids.empty(), "generation request " + std::to_string(r) + ": empty prompt");
    require(req.max_new_tokens >= 1, "generation request " + std::to_string(r) + ": max_new_tokens must be >= 1");
    const int64_t need = static_cast<int64_t>(req.prompt_ids.size()) + req.max_new_tokens - 1;
    require(need <= options_.max_len, "generation request " + std::to_string(r) + ": prompt (" +
                                          std::to_string(req.prompt_ids.size()) + " tokens) + max_new_tokens (" +
                                          std::to_string(req.max_new_tokens) + ") exceed the cache length " +
                                          std::to_string(options_.max_len));
    result.completions[r].resize(req.n);
    matchers_.push_back(std::make_unique<StopStringMatcher>(req.stop_strings, options_.decode));
    waiting.push_back({static_cast<int64_t>(r), &req});
  }
  for (int64_t s = 0; s < options_.slots; ++s) cache_->set_length(s, 0);
  std::reverse(waiting.begin(), waiting.end());  // pop_back takes the earliest request
  at::Generator gen = make_generator(device_, seed);
  std::vector<Slot> slots(options_.slots);
  for (;;) {
    auto t0 = std::chrono::steady_clock::now();
    admit(waiting, slots, result, gen);
    result.stats.prefill_seconds += seconds_since(t0);
    const bool any_active = std::any_of(slots.begin(), slots.end(), [](const Slot& s) { return s.active; });
    if (!any_active) {
      if (waiting.empty()) break;
      continue;
    }
    t0 = std::chrono::steady_clock::now();
    decode_step(slots, result, gen);
    result.stats.decode_seconds += seconds_since(t0);
    if (progress) progress(result.stats.generated_tokens);
  }
  requests_ = nullptr;
  return result;
}

void RolloutEngine::admit(std::vector<Waiting>& waiting, std::vector<Slot>& slots, GenerationResult& result,
                          at::Generator& gen) {
  std::vector<int64_t> free;
  for (int64_t s = 0; s < static_cast<int64_t>(slots.size()); ++s)
    if (!slots[s].active) free.push_back(s);
  // Take whole groups in request order while they fit in the free slots and the prefill budget.
  std::vector<Waiting> batch;
  std::vector<std::vector<int64_t>> group_slots;
  int64_t used = 0, longest = 0;
  while (!waiting.empty()) {
    const auto& w = waiting.back();
    const int64_t len = static_cast<int64_t>(w.req->prompt_ids.size());
    const int64_t new_longest = std::max(longest, len);
    if (used + w.req->n > static_cast<int64_t>(free.size())) break;
    if (!batch.empty() && new_longest * static_cast<int64_t>(batch.size() + 1) > options_.max_prefill_tokens) break;
    group_slots.emplace_back(free.begin() + used, free.begin() + used + w.req->n);
    used += w.req->n;
    longest = new_longest;
    batch.push_back(w);
    waiting.pop_back();
  }
  if (batch.empty()) return;

  // One right-padded prefill for the first slot of every admitted group.
  const int64_t rows = static_cast<int64_t>(batch.size());
  auto ids = torch::zeros({rows, longest}, torch::kInt64);
  auto mask = torch::zeros({rows, longest}, torch::kBool);
  auto first_slots = torch::empty({rows}, torch::kInt64);
  auto last_index = torch::empty({rows}, torch::kInt64);
  for (int64_t i = 0; i < rows; ++i) {
    const auto& p = batch[i].req->prompt_ids;
    const int64_t len = static_cast<int64_t>(p.size());
    ids[i].narrow(0, 0, len).copy_(torch::tensor(p, torch::kInt64));
    mask[i].narrow(0, 0, len).fill_(true);
    first_slots[i] = group_slots[i][0];
    last_index[i] = len - 1;
    result.stats.prompt_tokens += len;
  }
  model::ForwardInput in;
  in.input_ids = ids.to(device_);
  in.attention_mask = mask.to(device_);
  in.cache = cache_.get();
  in.cache_slots = first_slots.to(device_);
  auto hidden = policy_->forward(in).hidden;  // [rows, longest, H]
  auto last_hidden = hidden.index({torch::arange(rows, torch::kInt64).to(device_), last_index.to(device_)});
  auto logits = policy_->logits(last_hidden);  // [rows, V]

  // Fork each prompt's cache to its group and sample every sample's first token.
  std::vector<int64_t> expand_rows;
  std::vector<RowSampling> sampling;
  for (int64_t i = 0; i < rows; ++i) {
    const int64_t len = static_cast<int64_t>(batch[i].req->prompt_ids.size());
    for (size_t k = 1; k < group_slots[i].size(); ++k) cache_->copy_slot(group_slots[i][0], group_slots[i][k], len);
    for (int64_t k = 0; k < batch[i].req->n; ++k) {
      expand_rows.push_back(i);
      sampling.push_back(batch[i].req->sampling);
    }
  }
  auto expanded = logits.index_select(0, torch::tensor(expand_rows, torch::kInt64).to(device_));
  auto sampled = sample_next_tokens(expanded, make_sampling_batch(sampling, device_), gen);
  auto tokens = sampled.tokens.cpu(), logprobs = sampled.logprobs.cpu();
  int64_t row = 0;
  // Every admitted slot's first token.
  for (int64_t i = 0; i < rows; ++i)
    for (int64_t k = 0; k < batch[i].req->n; ++k, ++row) {
      Slot& s = slots[group_slots[i][k]];
      s.active = true;
      s.request = batch[i].request;
      s.sample = k;
      s.completion = Completion{};
      append_token(group_slots[i][k], s, tokens[row].item<int64_t>(), logprobs[row].item<float>(), result);
    }
}

void RolloutEngine::decode_step(std::vector<Slot>& slots, GenerationResult& result, at::Generator& gen) {
  std::vector<int64_t> active, last;
  std::vector<RowSampling> sampling;
  for (int64_t s = 0; s < static_cast<int64_t>(slots.size()); ++s)
    if (slots[s].active) {
      active.push_back(s);
      last.push_back(slots[s].last_token);
      sampling.push_back((*requests_)[slots[s].request].sampling);
    }
  const int64_t b = static_cast<int64_t>(active.size());
  model::ForwardInput in;
  in.input_ids = torch::tensor(last, torch::kInt64).view({b, 1}).to(device_);
  in.cache = cache_.get();
  in.cache_slots = torch::tensor(active, torch::kInt64).to(device_);
  auto hidden = policy_->forward(in).hidden;            // [b, 1, H]
  auto logits = policy_->logits(hidden.select(1, 0));  // [b, V]
  auto sampled = sample_next_tokens(logits, make_sampling_batch(sampling, device_), gen);
  auto tokens = sampled.tokens.cpu(), logprobs = sampled.logprobs.cpu();
  const auto* token_ptr = tokens.data_ptr<int64_t>();
  const auto* logprob_ptr = logprobs.data_ptr<float>();
  for (int64_t i = 0; i < b; ++i) append_token(active[i], slots[active[i]], token_ptr[i], logprob_ptr[i], result);
}

void RolloutEngine::append_token(int64_t slot_index, Slot& slot, int64_t token, float logprob,
                                 GenerationResult& result) {
  const GenerationRequest& req = (*requests_)[slot.request];
  slot.last_token = token;
  slot.completion.token_ids.push_back(token);
  slot.completion.logprobs.push_back(logprob);
  ++result.stats.generated_tokens;
  const bool stop_token = std::find(req.stop_token_ids.begin(), req.stop_token_ids.end(), token) !=
                          req.stop_token_ids.end();
  const bool stop = stop_token || matchers_[slot.request]->completed_by_last_token(slot.completion.token_ids);
  const bool full = static_cast<int64_t>(slot.completion.token_ids.size()) >= req.max_new_tokens;
  if (!stop && !full) return;
  slot.completion.finish_reason = stop ? FinishReason::kStop : FinishReason::kLength;
  result.completions[slot.request][slot.sample] = std::move(slot.completion);
  slot = Slot{};
  cache_->set_length(slot_index, 0);
}

}  // namespace grpo::rollout
