// One full GRPO step on realistic lengths, timed as the trainer runs it, printed as one JSON
// object: the rollout (the real RolloutEngine over a random-weight policy), random 0/1 rewards,
// the trainer's advantages and the learner's update (GrpoLearner with its StageOptimizer, the
// trainer's default rl:/optim: settings), then the engine's weight refresh (weight_sync_s, apart
// from learner_s).
// Lengths: prompts uniform in [--prompt-min, --prompt-max] tokens; completions drawn from a
// fixed, seeded lognormal (sigma 1) clipped to [--min-length, --cap], whose mu is solved so the
// clipped mean is 0.25 x cap, as R1-Zero-style runs look; --fixed-length makes every completion
// exactly cap (the comparison point of the fixed-length benchmarks). Each completion is its own
// request (n = 1) with max_new_tokens = its drawn length and no stop tokens, so the rollout makes
// exactly the drawn lengths; groups therefore prefill their prompt G times, not once.
// Reported beside the times: learner tokens/s over real (non-padding) prompt + completion tokens,
// the padding fraction of the learner's micro-batches (computed here with the learner's own
// plan, plan_minibatches and select_rows, since the learner does not report it; rows per
// micro-batch, or the token budget of --micro-batch-tokens; 0 with --pack-sequences true,
// rl.pack_sequences, whose forwards see only real tokens), peak device
// memory, and two floors: the learner's 6·N·real_tokens / peak bf16 FLOP/s (N: matmul weights,
// routed experts counted at top-k / experts; 4·N with LoRA, 2·N more with a KL reference) and the rollout's decode bytes / bandwidth (weights
// every decode step plus each sequence's cache context, as bench_rollout counts them).
// Full fine-tuning, or LoRA (--lora-rank: adapters on --lora-targets, the base frozen in the
// compute dtype with no float32 masters; grpo_step_models.h builds them as the trainer does).
// --kl-beta > 0 adds GRPO's KL term with the trainer's reference: with LoRA the policy with its
// adapters off (no memory), else a frozen copy of the initial policy. --lora-rollout picks how the
// rollout sees the adapters: decode (the engine runs the policy's own layers, x·Aᵀ·Bᵀ beside each
// targeted GEMM) or merged (the engine runs its own copy, whose targeted rows get W + scaling·B·A
// after every update, rl::refresh_engine_weights; that sync is timed apart from the rollout, and
// the merge alone once more after the steps). The JSON adds what trains: trainable parameters,
// the float32 masters and the optimizer's bytes, the reference's and the engine copy's bytes.
// Not measured: the tokenizer, reward functions, logging, checkpoints.
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <fstream>
#include <iostream>
#include <random>

#include "bench/common/model_shapes.h"
#include "bench/rl/grpo_step_models.h"
#include "core/config/config_io.h"
#include "core/error.h"
#include "core/torch/device.h"
#include "model/cache/cache.h"
#include "model/io/model_io.h"
#include "model/lora/lora_adapters.h"
#include "model/lora/merge.h"
#include "rl/algorithms/advantages.h"
#include "rl/stage/stage_loop.h"
#include "rl/trainer/grpo_learner.h"
#include "rollout/engine.h"

namespace {

using nlohmann::json;
using namespace grpo;
using Clock = std::chrono::steady_clock;

double since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

// The expectation of a lognormal(mu, sigma) clipped to [lo, hi], in closed form.
double clipped_lognormal_mean(double mu, double sigma, double lo, double hi) {
  auto cdf = [](double z) { return 0.5 * std::erfc(-z / std::sqrt(2.0)); };
  const double za = (std::log(lo) - mu) / sigma, zb = (std::log(hi) - mu) / sigma;
  const double body = std::exp(mu + 0.5 * sigma * sigma) * (cdf(zb - sigma) - cdf(za - sigma));
  return lo * cdf(za) + hi * (1.0 - cdf(zb)) + body;
}

// The mu whose clipped mean is `mean` (the clipped mean rises with mu): bisection.
double solve_mu(double mean, double sigma, double lo, double hi) {
  double a = std::log(lo) - 10.0, b = std::log(hi) + 10.0;
  for (int i = 0; i < 200; ++i) {
    const double mid = 0.5 * (a + b);
    (clipped_lognormal_mean(mid, sigma, lo, hi) < mean ? a : b) = mid;
  }
  return 0.5 * (a + b);
}

// Draws from mt19937_64 (whose sequence the standard fixes) through our own transforms, so the
// lengths are the same with every standard library; std::*_distribution are not.
class Draws {
 public:
  explicit Draws(uint64_t seed) : gen_(seed) {}
  double uniform() { return static_cast<double>(gen_() >> 11) * 0x1.0p-53; }  // [0, 1)
  int64_t integer(int64_t lo, int64_t hi) { return lo + static_cast<int64_t>(gen_() % static_cast<uint64_t>(hi - lo + 1)); }
  double normal() {  // Box-Muller
    const double u = 1.0 - uniform(), v = uniform();
    return std::sqrt(-2.0 * std::log(u)) * std::cos(2.0 * M_PI * v);
  }

 private:
  std::mt19937_64 gen_;
};

struct Options {
  std::string shape = "tiny", device = "auto", dtype, baseline_path;
  int64_t prompts = 64, group = 8, cap = 0, prompt_min = 0, prompt_max = 0, min_length = 0, micro_batch = 0, slots = 0;
  int64_t micro_batch_tokens = 0;
  int repeats = 3, warmup = 1, threads = 0;
  bool fixed_length = false, cuda_graphs = true, pack_sequences = true, gradient_checkpointing = false;
  int64_t lora_rank = 0;
  double lora_alpha = 0, kl_beta = 0;
  std::string lora_targets, lora_rollout = "decode";
};

// Per-shape defaults of what was not given: cap 2048 (qwen05), 1024 (qwen7b, moe-mla), 64 (tiny);
// prompts 64..256 tokens (8..32 for tiny); the shortest completion cap / 64.
void fill_defaults(Options& o) {
  const bool tiny = o.shape == "tiny";
  if (o.cap == 0) o.cap = o.shape == "qwen05" ? 2048 : o.shape == "moe-mla" || o.shape == "qwen7b" ? 1024 : 64;
  if (o.prompt_min == 0) o.prompt_min = tiny ? 8 : 64;
  if (o.prompt_max == 0) o.prompt_max = tiny ? 32 : 256;
  if (o.min_length == 0) o.min_length = std::max<int64_t>(1, o.cap / 64);
  require(o.prompts >= 1 && o.group >= 2, "--prompts must be >= 1 and --group >= 2");
  require(1 <= o.prompt_min && o.prompt_min <= o.prompt_max, "--prompt-min must be in [1, --prompt-max]");
  require(1 <= o.min_length && o.min_length <= o.cap,
          "--min-length (" + std::to_string(o.min_length) + ") must be in [1, --cap (" + std::to_string(o.cap) + ")]");
  require(o.repeats >= 1 && o.warmup >= 0, "--repeats must be >= 1 and --warmup >= 0");
  require(o.kl_beta >= 0, "--kl-beta must be >= 0");
  require(o.lora_rollout == "decode" || o.lora_rollout == "merged",
          "--lora-rollout must be decode or merged, got '" + o.lora_rollout + "'");
  require(o.lora_rollout == "decode" || o.lora_rank > 0, "--lora-rollout merged needs --lora-rank > 0");
}

struct Workload {
  std::vector<std::vector<int64_t>> prompts;  // one per sequence: groups of G identical prompts
  std::vector<int64_t> completion_lengths;    // one per sequence
  double mu = 0, sigma = 1.0;
};

Workload draw_workload(const Options& o, int64_t vocab) {
  Workload w;
  Draws draws(20240601);
  const double lo = static_cast<double>(o.min_length), hi = static_cast<double>(o.cap);
  w.mu = solve_mu(0.25 * hi, w.sigma, lo, hi);
  for (int64_t p = 0; p < o.prompts; ++p) {
    std::vector<int64_t> prompt(draws.integer(o.prompt_min, o.prompt_max));
    for (auto& id : prompt) id = draws.integer(0, vocab - 1);
    for (int64_t g = 0; g < o.group; ++g) {
      const double x = std::exp(w.mu + w.sigma * draws.normal());
      const auto length = static_cast<int64_t>(std::llround(std::clamp(x, lo, hi)));
      w.prompts.push_back(prompt);
      w.completion_lengths.push_back(o.fixed_length ? o.cap : length);
    }
  }
  return w;
}

json length_summary(std::vector<int64_t> v) {
  std::sort(v.begin(), v.end());
  double sum = 0;
  for (auto x : v) sum += static_cast<double>(x);
  auto at = [&](double q) { return v[std::min(v.size() - 1, static_cast<size_t>(q * static_cast<double>(v.size())))]; };
  return {{"mean", sum / static_cast<double>(v.size())}, {"p50", at(0.5)}, {"p90", at(0.9)}, {"min", v.front()},
          {"max", v.back()}, {"sum", static_cast<int64_t>(sum)}};
}

std::vector<rollout::GenerationRequest> make_requests(const Workload& w) {
  std::vector<rollout::GenerationRequest> out;
  for (size_t i = 0; i < w.prompts.size(); ++i) {
    rollout::GenerationRequest r;
    r.prompt_ids = w.prompts[i];
    r.n = 1;
    r.max_new_tokens = w.completion_lengths[i];
    r.sampling.temperature = 1.0;  // no stop_token_ids: stop_at_eos off
    out.push_back(std::move(r));
  }
  return out;
}

// The trainer's learner batch (grpo_trainer.cpp, learner_batch) for completions that all keep
// their loss (rl.mask_truncated is off by default).
rl::LearnerBatch learner_batch(const Workload& w, const rollout::GenerationResult& gen, const torch::Device& device) {
  std::vector<std::vector<int64_t>> completions;
  std::vector<const std::vector<float>*> logprobs;
  for (size_t i = 0; i < gen.completions.size(); ++i) {
    const auto& c = gen.completions[i].at(0);
    if (static_cast<int64_t>(c.token_ids.size()) != w.completion_lengths[i])
      throw Error("rollout returned " + std::to_string(c.token_ids.size()) + " tokens for sequence " + std::to_string(i) +
                  ", expected its drawn length " + std::to_string(w.completion_lengths[i]));
    completions.push_back(c.token_ids);
    logprobs.push_back(&c.logprobs);
  }
  rl::LearnerBatch b;
  b.sequences = rl::make_sequence_batch(w.prompts, completions, device);
  b.rollout_logprobs = rl::completion_aligned(b.sequences, logprobs, device);
  b.loss_mask = b.sequences.completion_mask;
  return b;
}

// Token slots of the learner's forward passes: its plan (grpo_learner.h's plan_minibatches, as
// update() runs it), each micro-batch padded by select_rows to its longest row, or packed (its
// real tokens only).
struct Padding {
  int64_t slots = 0, real = 0, micro_batches = 0, largest_micro_batch_slots = 0;
};
Padding learner_padding(const rl::LearnerBatch& batch, const rl::GrpoSettings& settings) {
  Padding p;
  p.real = batch.sequences.attention_mask.sum().item<int64_t>();
  for (const auto& minibatch : rl::plan_minibatches(batch, settings)) {
    for (const auto& micro : minibatch.micro_batches) {
      const auto rows = rl::select_rows(batch.sequences, micro.rows);
      const int64_t slots = settings.pack_sequences ? rows.attention_mask.sum().item<int64_t>() : rows.input_ids.numel();
      p.slots += slots;
      p.largest_micro_batch_slots = std::max(p.largest_micro_batch_slots, slots);
      ++p.micro_batches;
    }
  }
  return p;
}

// Weights every learner token multiplies: all matmul parameters, without an untied input
// embedding (a lookup), routed experts counted at the fraction each token uses (top-k / experts);
// LoRA adapters count as the parameters they are.
double active_matmul_params(model::CausalLM& m) {
  const auto& c = m->config();
  const double expert_share =
      c.n_routed_experts > 0 ? static_cast<double>(c.num_experts_per_tok) / static_cast<double>(c.n_routed_experts) : 1.0;
  double n = 0;
  for (const auto& item : m->named_parameters()) {
    const auto& name = item.key();
    const auto count = static_cast<double>(item.value().numel());
    if (!c.tie_word_embeddings && name.find("embed_tokens") != std::string::npos) continue;
    n += name.find(".experts.") != std::string::npos ? count * expert_share : count;
  }
  return n;
}

double median(std::vector<double> v) {  // the upper median for an even count
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"a full GRPO step (rollout + learner) on long-tailed completion lengths"};
  Options o;
  app.add_option("--shape", o.shape, "qwen05 | qwen7b | moe-mla | tiny");
  app.add_option("--prompts", o.prompts, "prompts per step");
  app.add_option("--group", o.group, "completions per prompt (G)");
  app.add_option("--cap", o.cap,
                 "longest completion (rollout.max_new_tokens); default 2048 qwen05, 1024 qwen7b and moe-mla, 64 tiny");
  app.add_option("--prompt-min", o.prompt_min, "shortest prompt; default 64 (8 for tiny)");
  app.add_option("--prompt-max", o.prompt_max, "longest prompt; default 256 (32 for tiny)");
  app.add_option("--min-length", o.min_length, "shortest completion; default cap / 64");
  app.add_flag("--fixed-length", o.fixed_length, "every completion exactly --cap tokens");
  app.add_option("--micro-batch", o.micro_batch, "learner rows per forward/backward; default rl.micro_batch_size");
  app.add_option("--micro-batch-tokens", o.micro_batch_tokens,
                 "learner token budget per forward/backward (rl.micro_batch_tokens; rows sorted by length); 0 = rows");
  app.add_option("--pack-sequences", o.pack_sequences,
                 "learner micro-batches packed into one row, varlen attention (rl.pack_sequences; true or false)");
  app.add_option("--gradient-checkpointing", o.gradient_checkpointing,
                 "recompute each layer in the backward (policy.gradient_checkpointing; true or false)");
  app.add_option("--lora-rank", o.lora_rank, "LoRA rank r (policy.lora.rank); 0 = full fine-tuning");
  app.add_option("--lora-alpha", o.lora_alpha, "LoRA alpha (policy.lora.alpha); default 2 x rank");
  app.add_option("--lora-targets", o.lora_targets,
                 "comma-separated module names (policy.lora.targets); default every adaptable projection: "
                 "q_proj,k_proj,v_proj,o_proj,gate_proj,up_proj,down_proj on dense models; MLA's q_proj (or "
                 "q_a_proj,q_b_proj),kv_a_proj_with_mqa,o_proj, and no MLP names on MoE models (tiny, moe-mla), "
                 "whose experts cannot be adapted");
  app.add_option("--lora-rollout", o.lora_rollout, "decode (adapters in the engine's forward) or merged (into its own copy)");
  app.add_option("--kl-beta", o.kl_beta, "rl.kl_beta; > 0: a KL reference (LoRA: adapters off; else a frozen copy)");
  app.add_option("--slots", o.slots, "rollout sequences decoded at once; default rollout.max_batch_sequences");
  app.add_option("--repeats", o.repeats, "timed steps (medians are reported)");
  app.add_option("--warmup", o.warmup, "untimed steps first (allocator, kernels, CUDA graphs)");
  app.add_option("--device", o.device, "auto | cpu | cuda[:N]");
  app.add_option("--dtype", o.dtype, "compute dtype; default bfloat16 on CUDA, float32 on CPU");
  app.add_option("--cuda-graphs", o.cuda_graphs, "capture decode steps as CUDA graphs (GPU only)");
  app.add_option("--threads", o.threads, "CPU intra-op threads (0 = all cores)");
  app.add_option("--baseline-json", o.baseline_path,
                 "hf_baselines.py's JSON: bf16_matmul_tflops and d2d_copy_TBps set the floors");
  CLI11_PARSE(app, argc, argv);

  set_cpu_threads(o.threads);
  fill_defaults(o);
  const auto device = parse_device(o.device);
  const auto dtype = o.dtype.empty() ? (device.is_cuda() ? torch::kBFloat16 : torch::kFloat32) : parse_dtype(o.dtype);
  json baseline = json::object();
  if (!o.baseline_path.empty()) {
    std::ifstream in(o.baseline_path);
    require(static_cast<bool>(in), "cannot read --baseline-json " + o.baseline_path);
    baseline = json::parse(in);
  }
  // Floors: H100 SXM dense bf16 (989 TFLOP/s) and about an H100's HBM3 copy rate (3 TB/s)
  // unless the baseline measured them on this device.
  const double peak_flops = baseline.contains("bf16_matmul_tflops") ? baseline["bf16_matmul_tflops"].get<double>() * 1e12 : 989e12;
  const double bandwidth = baseline.contains("d2d_copy_TBps") ? baseline["d2d_copy_TBps"].get<double>() * 1e12 : 3e12;

  auto settings = config::defaults<rl::GrpoSettings>();
  settings.group_size = o.group;
  settings.batch_size = o.prompts * o.group;
  if (o.micro_batch > 0) settings.micro_batch_size = o.micro_batch;
  settings.micro_batch_tokens = o.micro_batch_tokens;
  settings.pack_sequences = o.pack_sequences;
  settings.kl_beta = o.kl_beta;
  const auto optim = config::defaults<rl::OptimSettings>();
  const auto rollout_settings = config::defaults<rollout::RolloutSettings>();
  const int64_t slots = o.slots > 0 ? o.slots : rollout_settings.max_batch_sequences;

  // As the trainer: the policy on the device (built in the compute dtype: a 7B model never exists
  // in float32; the masters take its rounded values), its adapters, the KL reference, the learner
  // (it repacks the parameters), then the engine over the same tensors or, merged, its own copy.
  const auto lora = bench::lora_settings(o.lora_rank, o.lora_alpha, o.lora_targets,
                                         model::parse_model_config(bench::shape_config(o.shape), o.shape));
  auto policy = bench::build_policy(o.shape, device, dtype, lora, o.gradient_checkpointing);
  bench::KlReference reference(policy, o.kl_beta, [&] { return bench::random_model(o.shape, device, dtype, 0); });
  rl::GrpoLearner learner(policy, settings, optim, rollout_settings.temperature, o.cap, o.warmup + o.repeats, dtype);
  const auto trainable = bench::trainable_state(policy, learner.optimizer());
  const Workload w = draw_workload(o, policy->config().vocab_size);
  rollout::EngineOptions eo;
  eo.slots = slots;
  eo.max_len = o.prompt_max + o.cap;
  eo.cuda_graphs = o.cuda_graphs;
  eo.own_copy = o.lora_rollout == "merged";
  rollout::RolloutEngine engine(policy, eo);
  rl::refresh_engine_weights(engine, policy);  // merged: the adapters into the engine's copy
  const auto requests = make_requests(w);

  auto sync = [&] { policy->output_weight().sum().item<double>(); };  // waits for the stream on CUDA
  std::vector<double> rollout_s, learner_s, reference_s, sync_s, step_s, peak_gib, learner_peak_gib;  // peaks: CUDA only
  rollout::GenerationStats stats;
  Padding padding;
  for (int s = 0; s < o.warmup + o.repeats; ++s) {
    sync();
    reset_peak_memory(device);
    const auto t_step = Clock::now();
    const auto gen = engine.generate(requests, 100 + static_cast<uint64_t>(s));
    sync();
    const double t_rollout = since(t_step);
    // Rewards: 0/1 per completion, seeded per step (their values do not change the work).
    std::vector<float> reward_values(requests.size());
    Draws reward_draws(7000 + static_cast<uint64_t>(s));
    for (auto& r : reward_values) r = static_cast<float>(reward_draws.integer(0, 1));
    const auto rewards = torch::tensor(reward_values);
    const double rollout_peak = peak_memory_gib(device);
    reset_peak_memory(device);
    const auto t_learn = Clock::now();
    auto batch = learner_batch(w, gen, device);
    rl::AdvantageOptions ao;
    ao.group_size = settings.group_size;
    ao.epsilon = settings.advantage_epsilon;
    ao.scaling = rl::parse_reward_scaling(settings.reward_scaling);
    ao.token_counts = batch.sequences.completion_mask.sum(1).cpu();
    batch.advantages = rl::compute_advantages(settings.advantage, rewards, ao).advantages.to(device);
    double t_reference = 0;
    if (reference.enabled()) {
      const auto t_ref = Clock::now();
      batch.ref_logprobs = reference.log_probs(learner, policy, batch.sequences);
      sync();
      t_reference = since(t_ref);
    }
    learner.update(batch, s);
    sync();
    const double t_learner = since(t_learn);
    const auto t_sync = Clock::now();
    rl::refresh_engine_weights(engine, policy);
    sync();
    const double t_weight_sync = since(t_sync);
    const double t_total = since(t_step);
    if (s == 0) padding = learner_padding(batch, settings);
    if (s < o.warmup) continue;
    rollout_s.push_back(t_rollout);
    learner_s.push_back(t_learner);
    reference_s.push_back(t_reference);
    sync_s.push_back(t_weight_sync);
    step_s.push_back(t_total);
    stats = gen.stats;
    if (device.is_cuda()) {
      learner_peak_gib.push_back(peak_memory_gib(device));
      peak_gib.push_back(std::max(rollout_peak, learner_peak_gib.back()));
    }
  }

  // Floors. Learner: 6·N FLOPs per real token (forward, input and weight gradients); 4·N with LoRA,
  // whose frozen base needs no weight gradients; 2·N more for the KL reference's forward. Rollout: the engine's decode steps each read the
  // weights; each sequence's decode token j (j >= 1; token 0 comes from the prefill) reads the
  // cache of its prompt and the j tokens before it.
  const int64_t cache_bpt = model::InferenceCache::bytes_per_token(policy->config(), dtype);
  double cache_bytes = 0;
  for (size_t i = 0; i < w.prompts.size(); ++i) {
    const auto p = static_cast<double>(w.prompts[i].size()), c = static_cast<double>(w.completion_lengths[i]);
    cache_bytes += (p * (c - 1) + 0.5 * c * (c - 1)) * static_cast<double>(cache_bpt);
  }
  const double weight_bytes = static_cast<double>(bench::weight_bytes_per_decode_step(policy, slots)) *
                              static_cast<double>(stats.decode_steps);
  const double rollout_floor = (weight_bytes + cache_bytes) / bandwidth;
  const double n_active = active_matmul_params(policy);
  const double flops_per_token_param = (lora.enabled() ? 4.0 : 6.0) + (reference.enabled() ? 2.0 : 0.0);
  const double learner_floor = flops_per_token_param * n_active * static_cast<double>(padding.real) / peak_flops;
  const double rollout_med = median(rollout_s), learner_med = median(learner_s), step_med = median(step_s);

  // The merge alone (merged rollout), apart from the base copy refresh_engine_weights also makes:
  // it sets the adapted rows to the same values again, so the engine's weights do not change.
  std::vector<double> merge_s;
  for (int i = 0; eo.own_copy && i < 3; ++i) {
    sync();
    const auto t_merge = Clock::now();
    model::publish_merged_lora(engine.policy(), policy);
    sync();
    merge_s.push_back(since(t_merge));
  }
  int64_t engine_copy_bytes = 0;
  if (eo.own_copy)
    for (const auto& p : engine.policy()->parameters()) engine_copy_bytes += p.numel() * p.element_size();

  std::vector<int64_t> prompt_lengths;
  for (size_t i = 0; i < w.prompts.size(); i += static_cast<size_t>(o.group)) prompt_lengths.push_back(w.prompts[i].size());
  int64_t params = 0;
  for (const auto& p : policy->parameters()) params += p.numel();
  json out = {{"benchmark", "grpo_step"}, {"shape", o.shape}, {"device", describe_device(device)},
              {"dtype", dtype_name(dtype)}, {"prompts", o.prompts}, {"group", o.group}, {"sequences", o.prompts * o.group},
              {"cap", o.cap}, {"fixed_length", o.fixed_length},
              {"length_distribution", o.fixed_length ? json("fixed") : json({{"lognormal_mu", w.mu}, {"lognormal_sigma", w.sigma},
                                                                            {"min", o.min_length}, {"target_mean", 0.25 * static_cast<double>(o.cap)}})},
              {"completion_lengths", length_summary(w.completion_lengths)}, {"prompt_lengths", length_summary(prompt_lengths)},
              {"micro_batch_rows", settings.micro_batch_size},
              {"micro_batch_tokens", settings.micro_batch_tokens}, {"pack_sequences", settings.pack_sequences},
              {"rollout_slots", slots}, {"cuda_graphs", o.cuda_graphs && device.is_cuda()},
              {"params", params}, {"active_matmul_params", n_active}, {"repeats", o.repeats}, {"warmup", o.warmup},
              {"rollout_s", rollout_med}, {"learner_s", learner_med}, {"step_s", step_med},
              {"repeats_step_s", step_s}, {"repeats_rollout_s", rollout_s}, {"repeats_learner_s", learner_s},
              {"real_tokens", padding.real}, {"completion_tokens", stats.generated_tokens},
              {"learner_real_tokens_per_s", static_cast<double>(padding.real) / learner_med},
              {"learner_token_slots", padding.slots}, {"learner_micro_batches", padding.micro_batches},
              {"largest_micro_batch_slots", padding.largest_micro_batch_slots},
              {"padding_fraction", 1.0 - static_cast<double>(padding.real) / static_cast<double>(padding.slots)},
              {"rollout_tokens_per_s", static_cast<double>(stats.generated_tokens) / rollout_med},
              {"decode_steps", stats.decode_steps}, {"prefill_s", stats.prefill_seconds}, {"decode_s", stats.decode_seconds},
              {"floor_peak_flops", peak_flops}, {"floor_bandwidth_Bps", bandwidth},
              {"learner_floor_s", learner_floor}, {"learner_over_floor", learner_med / learner_floor},
              {"rollout_bytes", weight_bytes + cache_bytes},
              {"rollout_bytes_per_decode_step", stats.decode_steps > 0 ? (weight_bytes + cache_bytes) / static_cast<double>(stats.decode_steps) : 0.0},
              {"rollout_floor_s", rollout_floor}, {"rollout_over_floor", rollout_med / rollout_floor},
              {"step_floor_s", learner_floor + rollout_floor}, {"step_over_floor", step_med / (learner_floor + rollout_floor)},
              {"lora", lora.enabled() ? json({{"rank", lora.rank}, {"alpha", lora.alpha}, {"targets", lora.targets},
                                              {"adapters", model::lora_adapters(policy).size()}})
                                      : json(nullptr)},
              {"lora_rollout", lora.enabled() ? json(o.lora_rollout) : json(nullptr)},
              {"gradient_checkpointing", o.gradient_checkpointing}, {"kl_beta", o.kl_beta},
              {"reference", !reference.enabled() ? "none" : lora.enabled() ? "policy_without_adapters" : "model_copy"},
              {"reference_bytes", reference.model_bytes()}, {"trainable_params", trainable.trainable_params},
              {"frozen_params", trainable.frozen_params}, {"weight_bytes", trainable.weight_bytes},
              {"master_weight_bytes", trainable.master_bytes}, {"optimizer_state_bytes", trainable.optimizer_state_bytes},
              {"engine_copy_bytes", engine_copy_bytes}, {"reference_logprobs_s", median(reference_s)},
              {"weight_sync_s", median(sync_s)}, {"merge_s", merge_s.empty() ? json(nullptr) : json(median(merge_s))}};
  if (device.is_cuda()) {
    out["peak_memory_gib"] = *std::max_element(peak_gib.begin(), peak_gib.end());
    out["learner_peak_memory_gib"] = *std::max_element(learner_peak_gib.begin(), learner_peak_gib.end());
  }
  std::cout << out.dump() << std::endl;
  return 0;
}
