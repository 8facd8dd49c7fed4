// DeepSeekMoE feed-forward: a router (`gate`), routed experts and optional shared experts.
// Routing follows transformers: V2 = softmax scores, greedy or group-limited-greedy top-k,
// weights times routed_scaling_factor, no renormalization; V3 = sigmoid scores, the
// e_score_correction_bias added for selection only, group-limited top-k (groups ranked by their
// top-2 biased scores, others masked with -inf), weights = unbiased scores, optionally
// renormalized, times routed_scaling_factor. Router math runs in float32. The routed experts'
// weights are stacked per layer (RoutedExperts); tokens are grouped by expert (one sort, then a
// grouped GEMM or one slice per expert, index_add back), never looped one by one.
// Also: per-expert load statistics, DeepSeek-V3's auxiliary-loss-free bias update, the
// sequence-wise balance loss, and routing replay (issue 23): a layer can write each token's
// experts into a buffer (the rollout records them) and take given experts instead of its own
// choice (the learner replays the rollout's). It does not do expert parallelism or capacity
// dropping.
#pragma once

#include <functional>
#include <vector>

#include "model/arch/layers.h"

namespace grpo::model {

struct RouterOutput {
  torch::Tensor weights;  // [N, K] float32, already scaled
  torch::Tensor indices;  // [N, K] int64
  torch::Tensor scores;   // [N, E] float32: softmax (V2) or sigmoid (V3) of the router logits
};

// How a router turns its scores into routing weights, for code that routes outside the module
// (the rollout's fused router kernel) and must compute the same function.
struct RoutingRule {
  int64_t top_k = 1;
  bool sigmoid = false;        // sigmoid scores (V3), else softmax (V2)
  bool normalize = false;      // chosen weights divided by their sum (+ 1e-20)
  bool group_limited = false;  // experts outside the best topk_group groups are excluded first
  double scaling = 1.0;        // routed_scaling_factor, applied last
};

// Where a training step's (token, expert) pairs p = token·K + k go in the experts' grouped GEMM
// input: each expert's rows start at a multiple of the alignment, in pair order within an expert;
// `rows` = pairs + E·(align - 1) whatever the routing (static shapes). All int64 except ends.
struct ExpertLayout {
  torch::Tensor row_of_pair;   // [pairs]
  torch::Tensor token_of_row;  // [rows]; padding rows: 0
  torch::Tensor pair_of_row;   // [rows, 1]; padding rows: pairs
  torch::Tensor ends;          // [E] int32 end row of each expert's group (the last: rows)
};

class RouterImpl : public torch::nn::Module {
 public:
  explicit RouterImpl(const ModelConfig& config);
  RouterOutput route(const torch::Tensor& x);  // x: [N, hidden]
  // The same scores, with the experts `replayed` [N, K] int64 (-1 = this token's own choice)
  // instead of the router's: weights are the scores at those experts, normalized and scaled as
  // rule() says, so the router's gradient flows through the replayed experts' weights.
  RouterOutput route(const torch::Tensor& x, const torch::Tensor& replayed);
  RoutingRule rule() const { return {top_k_, sigmoid_, normalize_, group_limited_, scaling_}; }
  torch::Tensor weight;                 // [E, hidden]
  torch::Tensor e_score_correction_bias;  // [E] float32 buffer (V3 only)

 private:
  torch::Tensor limit_groups(const torch::Tensor& selection, bool top2_sum, double fill) const;
  int64_t top_k_, groups_, topk_groups_;
  bool sigmoid_, normalize_, group_limited_;
  double scaling_;
};
TORCH_MODULE(Router);

// The routed experts of one layer, stacked: gate_up_proj [E, 2I, hidden] (each expert's gate
// rows, then its up rows) and down_proj [E, hidden, I], registered as experts.gate_up_proj and
// experts.down_proj (the tensor table maps the checkpoint's per-expert names onto them).
// They may carry per-expert LoRA adapters (model/lora/lora_adapters.h attaches them): LoraSlices
// whose a [E, rank, in] and b [E, rows, rank] are stacked by expert, on rows of gate_up_proj (gate
// or up) or of down_proj, named as the per-expert modules without the index
// (model.layers.1.mlp.experts.gate_proj). While enabled, expert e's rows get
// dropout(x)·A[e]ᵀ·B[e]ᵀ·scaling, through the same grouped GEMM or per-expert loop as the base.
class RoutedExpertsImpl : public torch::nn::Module {
 public:
  RoutedExpertsImpl(int64_t experts, int64_t hidden, int64_t intermediate);
  // x: [T, hidden] rows sorted by expert; offsets: [E] int32 end offsets of each expert's rows,
  // on x's device -> [T, hidden]. A grouped GEMM where compat supports one (bf16 CUDA: no host
  // read), otherwise one matmul per expert after one host read of the offsets.
  torch::Tensor forward(const torch::Tensor& sorted_x, const torch::Tensor& offsets);
  // Whether forward runs without host reads for inputs like `x` (dtype and device).
  bool host_free(const torch::Tensor& x) const;
  torch::Tensor gate_up_proj, down_proj;

  // Registers the slice's a and b as parameters lora_A_<leaf>, lora_B_<leaf> and applies it from
  // then on, on down_proj's rows or else gate_up_proj's.
  void add_lora(LoraSlice slice, bool on_down_proj);
  const std::vector<LoraSlice>& gate_up_lora() const { return gate_up_lora_; }
  const std::vector<LoraSlice>& down_lora() const { return down_lora_; }
  void set_lora_enabled(bool on) { lora_enabled_ = on; }
  bool lora_enabled() const { return lora_enabled_; }

 private:
  // x [T, in], a stack [E, out, in] -> [T, out]: each row times its expert's matrix.
  using ExpertMatmul = std::function<torch::Tensor(const torch::Tensor& x, const torch::Tensor& stacked)>;
  // The adapters' output [T, rows] (zero on rows without one); undefined when there is none.
  torch::Tensor lora_delta(const std::vector<LoraSlice>& slices, const torch::Tensor& x, int64_t rows,
                           const ExpertMatmul& matmul);
  std::vector<LoraSlice> gate_up_lora_, down_lora_;
  bool lora_enabled_ = true;
};
TORCH_MODULE(RoutedExperts);

class MoeFeedForward : public FeedForwardBase {
 public:
  explicit MoeFeedForward(const ModelConfig& config);
  LayerOutput forward(const torch::Tensor& x, const ForwardContext& ctx) override;

  // Tokens routed to each expert since the last reset: [E] int64 (padding excluded).
  torch::Tensor expert_load() const { return load_; }
  void reset_expert_load() { load_.zero_(); }
  // DeepSeek-V3 auxiliary-loss-free balancing: bias_i += gamma * sign(mean_load - load_i), then
  // resets the load. Needs the correction bias (V3).
  void update_bias(double gamma);

  // Routing replay. record_routes_into: from now on every forward writes its N tokens' experts
  // into rows [0, N) of `buffer` [capacity, K] int16, a tensor that stays put (a captured CUDA
  // graph writes it on each replay); undefined = off. record_routes: that write, for callers
  // that route outside forward() (moe_decode.h); indices [N, K] integer.
  void record_routes_into(torch::Tensor buffer) { route_record_ = std::move(buffer); }
  bool records_routes() const { return route_record_.defined(); }
  void record_routes(const torch::Tensor& indices);
  // The next forwards take these experts: [N, K] int64 on the forward's device (N = the
  // forward's tokens, flattened), -1 = route that token itself; undefined = route every token.
  // The caller checks the ids against the expert count (a host read here would cost a sync).
  void replay_routes(torch::Tensor experts) { replayed_ = std::move(experts); }

  Router gate{nullptr};
  RoutedExperts experts{nullptr};
  Mlp shared_experts{nullptr};

 private:
  torch::Tensor run_experts(const torch::Tensor& x, const RouterOutput& route);
  torch::Tensor balance_loss(const RouterOutput& route, const torch::Tensor& valid, int64_t batch, double alpha) const;

  int64_t num_experts_, top_k_;
  torch::Tensor load_;
  torch::Tensor route_record_, replayed_;
};

}  // namespace grpo::model
