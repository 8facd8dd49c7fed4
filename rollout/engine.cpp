// Continuous-batching generation over an InferenceCache; see engine.h.
#include "rollout/engine.h"

#include <algorithm>
#include <chrono>
#include <limits>
#include <map>

#ifdef GRPO_WITH_CUDA
#include <ATen/cuda/CUDAEvent.h>
#endif

#include "core/error.h"
#include "core/torch/device.h"
#include "model/io/model_io.h"

namespace grpo::rollout {
namespace {

double seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

// A step's sampled tokens and log-probs (and, when recorded, its rows' routes [rows, MoE layers,
// top_k] int16) on their way to the host. On CUDA they go into pinned memory asynchronously and
// an event marks their arrival, so the host can enqueue the next step before it waits.
struct HostCopy {
  torch::Tensor tokens, logprobs, routes;
#ifdef GRPO_WITH_CUDA
  std::unique_ptr<at::cuda::CUDAEvent> landed;
#endif
  void wait() const {
#ifdef GRPO_WITH_CUDA
    if (landed) landed->synchronize();
#endif
  }
};

HostCopy start_host_copy(const SampledTokens& s, const torch::Tensor& routes = {}) {
  HostCopy copy;
  if (!s.tokens.is_cuda()) {
    copy.tokens = s.tokens.contiguous();
    copy.logprobs = s.logprobs.contiguous();
    if (routes.defined()) copy.routes = routes.contiguous();
    return copy;
  }
#ifdef GRPO_WITH_CUDA
  const auto pinned = torch::TensorOptions().pinned_memory(true);
  copy.tokens = torch::empty(s.tokens.sizes(), pinned.dtype(torch::kInt64));
  copy.logprobs = torch::empty(s.logprobs.sizes(), pinned.dtype(torch::kFloat32));
  copy.tokens.copy_(s.tokens, /*non_blocking=*/true);
  copy.logprobs.copy_(s.logprobs, /*non_blocking=*/true);
  if (routes.defined()) {
    copy.routes = torch::empty(routes.sizes(), pinned.dtype(torch::kInt16));
    copy.routes.copy_(routes, /*non_blocking=*/true);
  }
  copy.landed = std::make_unique<at::cuda::CUDAEvent>();
  copy.landed->record();
#endif
  return copy;
}

// The policy's structure in another dtype: same config, and the MTP modules it actually has
// (a loaded model leaves out those its checkpoint lacks).
model::CausalLM copy_structure(model::CausalLM& policy, torch::Dtype dtype, const torch::Device& device) {
  auto config = policy->config();
  config.num_nextn_predict_layers = static_cast<int64_t>(policy->model->mtp.size());
  model::CausalLM copy(config);
  model::cast_model(copy, dtype);
  copy->to(device);
  copy->eval();
  return copy;
}

// Gives every MoE layer its slice of the engine's route buffer for one generate() call, and
// takes it back after: the layers may be the learner's own (colocated), whose forwards must not
// write into it.
class RouteRecording {
 public:
  RouteRecording(model::CausalLM& model, const torch::Tensor& routes) : layers_(model->moe_layers()) {
    if (!routes.defined()) layers_.clear();
    for (size_t i = 0; i < layers_.size(); ++i) layers_[i]->record_routes_into(routes[static_cast<int64_t>(i)]);
  }
  ~RouteRecording() {
    for (auto* moe : layers_) moe->record_routes_into({});
  }
  RouteRecording(const RouteRecording&) = delete;
  RouteRecording& operator=(const RouteRecording&) = delete;

 private:
  std::vector<model::MoeFeedForward*> layers_;
};

}  // namespace

struct RolloutEngine::Slot {
  int64_t id = -1;  // the sequence's number in this generate() call
  int64_t request = -1, sample = -1;
  int64_t in_flight = 0;  // tokens of decode steps enqueued but not yet collected
  Completion completion;
};

// A decode step enqueued on the device: its tokens on their way to the host, and which sequence
// each of its rows belonged to when it was enqueued (slots move when sequences finish).
struct RolloutEngine::InFlightStep {
  HostCopy sampled;
  std::vector<int64_t> owners;
};

struct RolloutEngine::Waiting {
  int64_t request;
  const GenerationRequest* req;
};

RolloutEngine::RolloutEngine(model::CausalLM policy, EngineOptions options)
    : model_(policy), options_(std::move(options)), device_(torch::kCPU) {
  require(options_.slots > 0, "rollout engine needs at least one slot");
  require(options_.max_len > 1, "rollout engine max_len must be > 1");
  const auto params = policy->parameters();
  require(!params.empty(), "rollout engine: the policy has no parameters");
  device_ = params.front().device();
  const auto policy_dtype = policy->output_weight().scalar_type();
  if (options_.own_copy || (options_.dtype && *options_.dtype != policy_dtype)) {
    model_ = copy_structure(policy, options_.dtype.value_or(policy_dtype), device_);
    owns_model_ = true;
    refresh_weights(policy);
  }
  const auto weight = model_->output_weight();
  const auto int64 = torch::TensorOptions().dtype(torch::kInt64).device(device_);
  cache_ = std::make_unique<model::InferenceCache>(model_->config(), options_.slots, options_.max_len, weight.options());
  forward_ = std::make_unique<model::CachedForward>(model_, cache_.get());
  tokens_ = torch::zeros({options_.slots}, int64);
  lengths_ = torch::zeros({options_.slots}, int64);
  logits_ = torch::empty({options_.slots, weight.size(0)}, weight.options());
  prefill_inputs_ = torch::zeros({model::PrefillInputs::numel(options_.slots, options_.max_len)}, int64);
  prefill_hidden_ = torch::empty({options_.slots, weight.size(1)}, weight.options());
  if (device_.is_cuda() && options_.dense_moe) forward_->use_dense_moe();
#ifdef GRPO_WITH_CUDA
  const int device_index = device_.has_index() ? device_.index() : 0;
  if (device_.is_cuda() && options_.cuda_graphs && forward_->decode_host_free())
    decode_graphs_ = std::make_unique<BucketGraphs>(
        [this](int64_t rows, int64_t key_len) { forward_->decode(tokens_, lengths_, rows, key_len, logits_); },
        device_index);
  if (device_.is_cuda() && options_.cuda_graphs && forward_->prefill_host_free())
    prefill_graphs_ = std::make_unique<BucketGraphs>(
        [this](int64_t rows, int64_t len) {
          forward_->prefill(model::PrefillInputs::view(prefill_inputs_, rows, len), prefill_hidden_);
        },
        device_index);
#endif
}

RolloutEngine::~RolloutEngine() = default;

int64_t RolloutEngine::cache_bytes() const {
  int64_t total = 0;
  for (const auto* group : {&cache_->keys(), &cache_->values(), &cache_->latents()})
    for (const auto& t : *group) total += t.numel() * t.element_size();
  return total;
}

RolloutEngine::GraphCounts RolloutEngine::graph_counts() const {
  GraphCounts counts;
#ifdef GRPO_WITH_CUDA
  if (decode_graphs_) counts.decode = decode_graphs_->size();
  if (prefill_graphs_) counts.prefill = prefill_graphs_->size();
#endif
  return counts;
}

void RolloutEngine::refresh_weights(model::CausalLM& learner) {
  torch::NoGradGuard no_grad;
  if (learner.get() == model_.get()) return;  // the same tensors
  std::map<std::string, torch::Tensor> source;
  for (auto& [name, t] : model::model_tensors(learner)) source.emplace(name, t);
  for (auto& [name, t] : model::model_tensors(model_)) {
    const auto it = source.find(name);
    require(it != source.end(), "refresh_weights: the learner has no tensor '" + name + "'");
    require(it->second.sizes() == t.sizes(), "refresh_weights: '" + name + "' has shape " +
                                                 c10::str(it->second.sizes()) + ", the engine's is " + c10::str(t.sizes()));
    t.copy_(it->second);
  }
}

void RolloutEngine::record_routes() {
  const auto moe_layers = static_cast<int64_t>(model_->moe_layers().size());
  if (moe_layers == 0 || routes_.defined()) return;
  const auto counts = graph_counts();
  require(counts.decode + counts.prefill == 0,
          "rollout engine: record_routes() after CUDA graphs were captured (they would not write the routes)");
  require(model_->config().n_routed_experts <= std::numeric_limits<int16_t>::max(),
          "rollout engine: recording routes stores expert ids as int16; the model has " +
              std::to_string(model_->config().n_routed_experts) + " experts");
  routes_ = torch::zeros({moe_layers, options_.slots * options_.max_len, model_->config().num_experts_per_tok},
                         torch::TensorOptions().dtype(torch::kInt16).device(device_));
}

GenerationResult RolloutEngine::generate(const std::vector<GenerationRequest>& requests, uint64_t seed,
                                         const ProgressFn& progress, const GroupDoneFn& group_done) {
  torch::NoGradGuard no_grad;
  RouteRecording recording(model_, routes_);
  GenerationResult result;
  result.completions.resize(requests.size());
  requests_ = &requests;
  matchers_.clear();
  samples_left_.clear();
  groups_done_.clear();
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
    samples_left_.push_back(req.n);
    matchers_.push_back(std::make_unique<StopStringMatcher>(req.stop_strings, options_.decode));
    waiting.push_back({static_cast<int64_t>(r), &req});
  }
  for (int64_t s = 0; s < options_.slots; ++s) cache_->set_length(s, 0);
  lengths_.zero_();
  slots_.assign(options_.slots, Slot{});
  active_ = 0;
  sampling_.reset();
  std::reverse(waiting.begin(), waiting.end());  // pop_back takes the earliest request
  at::Generator gen = make_generator(device_, seed);
  next_id_ = 0;
  in_flight_.clear();
  // Step k is enqueued before step k - 1's tokens are collected, so the device runs step k while
  // the host appends step k - 1's tokens, checks stops and launches the next graph. A sequence
  // that stopped at step k - 1 has its step-k token discarded; its slot is freed one step later.
  for (;;) {
    auto t0 = std::chrono::steady_clock::now();
    admit(waiting, result, gen);
    result.stats.prefill_seconds += seconds_since(t0);
    t0 = std::chrono::steady_clock::now();
    const bool enqueued = active_ > 0 && needs_decode_step();
    if (enqueued) {
      enqueue_decode_step(gen);
      ++result.stats.decode_steps;
    }
    const bool collect = in_flight_.size() > 1 || (!enqueued && !in_flight_.empty());
    if (collect) collect_oldest_step(result);
    result.stats.decode_seconds += seconds_since(t0);
    if (collect && progress) progress(result.stats.generated_tokens);
    if (group_done) {
      for (size_t r : groups_done_) group_done(r, result.completions[r]);
    }
    groups_done_.clear();
    if (!enqueued && in_flight_.empty()) {
      require(active_ == 0, "rollout engine: running sequences with no decode step to run");
      if (waiting.empty()) break;
    }
  }
  requests_ = nullptr;
  return result;
}

void RolloutEngine::admit(std::vector<Waiting>& waiting, GenerationResult& result, at::Generator& gen) {
  // Take whole groups in request order while they fit in the free tail and the prefill budget;
  // group i gets the consecutive slots [starts[i], starts[i] + n).
  const int64_t free = options_.slots - active_;
  std::vector<Waiting> batch;
  std::vector<int64_t> starts;
  int64_t used = 0, longest = 0;
  while (!waiting.empty()) {
    const auto& w = waiting.back();
    const int64_t len = static_cast<int64_t>(w.req->prompt_ids.size());
    const int64_t new_longest = std::max(longest, len);
    if (used + w.req->n > free) break;
    if (!batch.empty() && new_longest * static_cast<int64_t>(batch.size() + 1) > options_.max_prefill_tokens) break;
    starts.push_back(active_ + used);
    used += w.req->n;
    longest = new_longest;
    batch.push_back(w);
    waiting.pop_back();
  }
  if (batch.empty()) return;

  // One right-padded prefill for the first slot of every admitted group. A graph bucket pads
  // the rows (rows of no real token, on slot 0, write only its scratch row) and the length.
  const int64_t rows = static_cast<int64_t>(batch.size());
  const bool graphed = prefill_graphed();
  const int64_t padded_rows = graphed ? bucket_rows(rows, options_.slots) : rows;
  const int64_t padded_len = graphed ? bucket_keys(longest, options_.max_len) : longest;
  auto staged = torch::zeros({model::PrefillInputs::numel(padded_rows, padded_len)},
                             torch::TensorOptions().dtype(torch::kInt64).pinned_memory(device_.is_cuda()));
  const auto inputs = model::PrefillInputs::view(staged, padded_rows, padded_len);
  for (int64_t i = 0; i < rows; ++i) {
    const auto& p = batch[i].req->prompt_ids;
    const int64_t n = static_cast<int64_t>(p.size());
    std::copy(p.begin(), p.end(), inputs.ids[i].data_ptr<int64_t>());
    std::fill_n(inputs.valid[i].data_ptr<int64_t>(), n, 1);
    inputs.slots.data_ptr<int64_t>()[i] = starts[i];
    inputs.last.data_ptr<int64_t>()[i] = n - 1;
    result.stats.prompt_tokens += n;
  }
  // Pinned on CUDA: the copy runs behind the decode steps in flight instead of waiting for them.
  prefill_inputs_.narrow(0, 0, staged.numel()).copy_(staged, /*non_blocking=*/true);
  run_prefill(padded_rows, padded_len);
  std::vector<TokenRoutes> prompt_routes_of_row;
  if (routes_.defined()) {
    std::vector<int64_t> prompt_lengths;
    for (const auto& w : batch) prompt_lengths.push_back(static_cast<int64_t>(w.req->prompt_ids.size()));
    prompt_routes_of_row = prompt_routes(padded_rows, padded_len, prompt_lengths);
  }
  for (int64_t i = 0; i < rows; ++i) cache_->set_length(starts[i], static_cast<int64_t>(batch[i].req->prompt_ids.size()));
  auto logits = model_->logits(prefill_hidden_.narrow(0, 0, rows));  // [rows, V]

  // Fork each prompt's cache to its group and sample every sample's first token.
  std::vector<int64_t> expand_rows, fork_src, fork_dst;
  std::vector<RowSampling> sampling;
  for (int64_t i = 0; i < rows; ++i) {
    const int64_t len = static_cast<int64_t>(batch[i].req->prompt_ids.size());
    for (int64_t k = 1; k < batch[i].req->n; ++k) {
      fork_src.push_back(starts[i]);
      fork_dst.push_back(starts[i] + k);
    }
    lengths_.narrow(0, starts[i], batch[i].req->n).fill_(len);
    for (int64_t k = 0; k < batch[i].req->n; ++k) {
      expand_rows.push_back(i);
      sampling.push_back(batch[i].req->sampling);
    }
  }
  cache_->copy_slots(fork_src, fork_dst);  // every fork of the batch at once
  auto expanded = logits.index_select(0, torch::tensor(expand_rows, torch::kInt64).to(device_));
  const auto sampled = sample_next_tokens(expanded, make_sampling_batch(sampling, device_), gen);
  tokens_.narrow(0, active_, used).copy_(sampled.tokens);
  const auto host = start_host_copy(sampled);
  host.wait();
  const auto* token_ptr = host.tokens.data_ptr<int64_t>();
  const auto* logprob_ptr = host.logprobs.data_ptr<float>();
  std::vector<int64_t> finished;
  int64_t row = 0;
  for (int64_t i = 0; i < rows; ++i)
    for (int64_t k = 0; k < batch[i].req->n; ++k, ++row) {
      Slot& s = slots_[starts[i] + k];
      s = Slot{next_id_++, batch[i].request, k, 0, Completion{}};
      if (routes_.defined()) s.completion.routes = prompt_routes_of_row[static_cast<size_t>(i)];
      if (append_token(s, token_ptr[row], logprob_ptr[row], result)) finished.push_back(starts[i] + k);
    }
  active_ += used;
  sampling_.reset();
  release(finished);
}

void RolloutEngine::run_decode(int64_t key_len) {
#ifdef GRPO_WITH_CUDA
  if (decode_graphs_) {
    decode_graphs_->run(bucket_rows(active_, options_.slots), bucket_keys(key_len, options_.max_len));
    return;
  }
#endif
  forward_->decode(tokens_, lengths_, active_, key_len, logits_);
}

bool RolloutEngine::prefill_graphed() const {
#ifdef GRPO_WITH_CUDA
  return prefill_graphs_ != nullptr;
#else
  return false;
#endif
}

void RolloutEngine::run_prefill(int64_t rows, int64_t len) {
#ifdef GRPO_WITH_CUDA
  if (prefill_graphs_) {
    prefill_graphs_->run(rows, len);
    return;
  }
#endif
  forward_->prefill(model::PrefillInputs::view(prefill_inputs_, rows, len), prefill_hidden_);
}

bool RolloutEngine::needs_decode_step() const {
  for (int64_t s = 0; s < active_; ++s) {
    const auto& slot = slots_[s];
    const int64_t promised = static_cast<int64_t>(slot.completion.token_ids.size()) + slot.in_flight;
    if (promised < (*requests_)[slot.request].max_new_tokens) return true;
  }
  return false;  // every running sequence has all its tokens in flight
}

void RolloutEngine::enqueue_decode_step(at::Generator& gen) {
  const int64_t b = active_;
  int64_t key_len = 0;
  for (int64_t s = 0; s < b; ++s) key_len = std::max(key_len, cache_->length(s) + 1);
  run_decode(key_len);
  if (!sampling_) {
    std::vector<RowSampling> rows;
    for (int64_t s = 0; s < b; ++s) rows.push_back((*requests_)[slots_[s].request].sampling);
    sampling_ = std::make_unique<SamplingBatch>(make_sampling_batch(rows, device_));
  }
  const auto sampled = sample_next_tokens(logits_.narrow(0, 0, b), *sampling_, gen);
  tokens_.narrow(0, 0, b).copy_(sampled.tokens);
  lengths_.narrow(0, 0, b).add_(1);
  InFlightStep step;
  step.owners.reserve(static_cast<size_t>(b));
  for (int64_t s = 0; s < b; ++s) {
    cache_->set_length(s, cache_->length(s) + 1);
    ++slots_[s].in_flight;
    step.owners.push_back(slots_[s].id);
  }
  // The step's rows' routes [b, layers, top_k], copied out before the next step overwrites them
  // (a clone: with one MoE layer the permuted view already counts as contiguous).
  const auto routes =
      routes_.defined() ? routes_.narrow(1, 0, b).permute({1, 0, 2}).clone(at::MemoryFormat::Contiguous) : torch::Tensor();
  step.sampled = start_host_copy(sampled, routes);
  in_flight_.push_back(std::move(step));
}

void RolloutEngine::collect_oldest_step(GenerationResult& result) {
  const InFlightStep step = std::move(in_flight_.front());
  in_flight_.erase(in_flight_.begin());
  step.sampled.wait();
  std::map<int64_t, int64_t> slot_of;  // sequence id -> its slot now
  for (int64_t s = 0; s < active_; ++s) slot_of.emplace(slots_[s].id, s);
  const auto* token_ptr = step.sampled.tokens.data_ptr<int64_t>();
  const auto* logprob_ptr = step.sampled.logprobs.data_ptr<float>();
  std::vector<int64_t> finished;
  for (size_t row = 0; row < step.owners.size(); ++row) {
    const auto it = slot_of.find(step.owners[row]);
    if (it == slot_of.end()) continue;  // stopped at an earlier step: the token is discarded
    Slot& slot = slots_[it->second];
    --slot.in_flight;
    if (step.sampled.routes.defined()) {  // the routes of this step's input: the completion's last token so far
      auto& ids = slot.completion.routes.expert_ids;
      const int64_t per_token = step.sampled.routes.size(1) * step.sampled.routes.size(2);
      const int16_t* row_routes = step.sampled.routes.data_ptr<int16_t>() + static_cast<int64_t>(row) * per_token;
      ids.insert(ids.end(), row_routes, row_routes + per_token);
    }
    if (append_token(slot, token_ptr[row], logprob_ptr[row], result)) finished.push_back(it->second);
  }
  std::sort(finished.begin(), finished.end());
  release(finished);
}

bool RolloutEngine::append_token(Slot& slot, int64_t token, float logprob, GenerationResult& result) {
  const GenerationRequest& req = (*requests_)[slot.request];
  slot.completion.token_ids.push_back(token);
  slot.completion.logprobs.push_back(logprob);
  ++result.stats.generated_tokens;
  const bool stop_token = std::find(req.stop_token_ids.begin(), req.stop_token_ids.end(), token) !=
                          req.stop_token_ids.end();
  const bool stop = stop_token || matchers_[slot.request]->completed_by_last_token(slot.completion.token_ids);
  const bool full = static_cast<int64_t>(slot.completion.token_ids.size()) >= req.max_new_tokens;
  if (!stop && !full) return false;
  slot.completion.finish_reason = stop ? FinishReason::kStop : FinishReason::kLength;
  result.completions[slot.request][slot.sample] = std::move(slot.completion);
  if (--samples_left_[slot.request] == 0) groups_done_.push_back(static_cast<size_t>(slot.request));
  return true;
}

std::vector<TokenRoutes> RolloutEngine::prompt_routes(int64_t padded_rows, int64_t len,
                                                      const std::vector<int64_t>& prompt_lengths) const {
  const int64_t layers = routes_.size(0), top_k = routes_.size(2), per_token = layers * top_k;
  // [layers, rows x len, K] -> [rows, len, layers, K]: each row's tokens, each token's layers.
  const auto host = routes_.narrow(1, 0, padded_rows * len)
                        .view({layers, padded_rows, len, top_k})
                        .permute({1, 2, 0, 3})
                        .contiguous()
                        .cpu();
  std::vector<TokenRoutes> out;
  for (size_t i = 0; i < prompt_lengths.size(); ++i) {
    const int16_t* row = host.data_ptr<int16_t>() + static_cast<int64_t>(i) * len * per_token;
    out.push_back({layers, top_k, std::vector<int16_t>(row, row + prompt_lengths[i] * per_token)});
  }
  return out;
}

void RolloutEngine::release(const std::vector<int64_t>& finished) {
  if (finished.empty()) return;
  const int64_t end = active_, kept = active_ - static_cast<int64_t>(finished.size());
  std::vector<bool> done(static_cast<size_t>(end), false);
  for (int64_t s : finished) done[s] = true;
  // Holes below `kept` are filled, in order, by the running sequences above it.
  std::vector<int64_t> holes, movers;
  for (int64_t s : finished)
    if (s < kept) holes.push_back(s);
  for (int64_t s = kept; s < end; ++s)
    if (!done[s]) movers.push_back(s);
  cache_->copy_slots(movers, holes);
  for (size_t i = 0; i < holes.size(); ++i) slots_[holes[i]] = std::move(slots_[movers[i]]);
  if (!holes.empty()) {
    auto src = torch::tensor(movers, torch::kInt64).to(device_), dst = torch::tensor(holes, torch::kInt64).to(device_);
    tokens_.index_copy_(0, dst, tokens_.index_select(0, src));
    lengths_.index_copy_(0, dst, lengths_.index_select(0, src));
  }
  for (int64_t s = kept; s < end; ++s) {
    cache_->set_length(s, 0);
    slots_[s] = Slot{};
  }
  active_ = kept;
  sampling_.reset();
}

}  // namespace grpo::rollout
