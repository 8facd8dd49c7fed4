// The GRPO loop; see grpo_trainer.h.
#include "rl/trainer/grpo_trainer.h"


#include <algorithm>
#include <chrono>
#include <cmath>

#include "core/error.h"
#include "core/logging.h"
#include "core/strings.h"
#include "core/thread_pool.h"
#include "core/torch/device.h"
#include "distributed/process_group.h"
#include "model/lora/lora_adapters.h"
#include "policy/engine_factory.h"
#include "policy/sampling_request.h"
#include "rewards/audit.h"
#include "rl/algorithms/advantages.h"
#include "rl/algorithms/groups.h"
#include "rl/algorithms/kl.h"
#include "rl/stage/completion_metrics.h"
#include "rl/stage/stage_loop.h"
#include "rl/stage/stage_setup.h"
#include "rl/trainer/grpo_learner.h"
#include "rl/trainer/routing_replay.h"

namespace grpo::rl {
namespace {

using Clock = std::chrono::steady_clock;
double since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

// One completion with everything the step needs about it.
struct Scored {
  int64_t record = 0;  // index into the training records
  std::vector<int64_t> prompt_ids, completion_ids;
  std::vector<float> rollout_logprobs;
  rollout::TokenRoutes routes;  // MoE policies: the rollout's experts per token
  bool truncated = false;
  std::string prompt, completion;
  std::vector<double> reward_values;
  std::vector<std::string> reasons;
  double total = 0;
};

struct Collected {
  std::vector<Scored> completions;  // groups of G, contiguous
  int64_t groups_generated = 0, groups_zero_std = 0, rounds = 0, generated_tokens = 0;
  double rollout_seconds = 0, reward_seconds = 0;
};

// Each completion's route record (empty unless the policy is MoE), in the batch's order.
std::vector<const rollout::TokenRoutes*> route_records(const Collected& c) {
  std::vector<const rollout::TokenRoutes*> out;
  for (const auto& s : c.completions) out.push_back(&s.routes);
  return out;
}

// The rollout's router health, router/rollout/layer<L>/..., counted from the step's recorded
// routes (prompt tokens once per sample, as the learner sees them); empty for a dense policy.
model::RouterHealth rollout_router_health(const Collected& c, const model::CausalLMImpl& policy) {
  const auto layers = model::moe_layer_indices(policy);
  if (layers.empty()) return {};
  const auto counts =
      routed_token_counts(route_records(c), static_cast<int64_t>(layers.size()), policy.config().n_routed_experts);
  return model::router_health(counts, layers, "router/rollout/");
}

class GrpoRun {
 public:
  // data_parallel: the ranks sharing each step (each rolls out and trains on its share of the
  // prompts), or nullptr for one process.
  GrpoRun(const ExperimentConfig& config, RunContext& ctx, distributed::ProcessGroup* data_parallel)
      : cfg_(config), ctx_(ctx), data_parallel_(data_parallel) {}
  void run();

 private:
  void setup();
  void train_step(int64_t step);
  Collected collect(int64_t step);
  // One finished group of record `record`, decoded and scored by every reward.
  std::vector<Scored> score_group(int64_t record, const std::vector<int64_t>& prompt_ids,
                                  const std::vector<rollout::Completion>& completions) const;
  LearnerBatch learner_batch(const Collected& c, torch::Tensor advantages);
  std::map<std::string, double> step_metrics(const Collected& c, const torch::Tensor& advantages);
  std::map<std::string, double> audit_step(int64_t step, const Collected& c);
  // Returns how many samples could not be logged (each a warning): logging never ends a run.
  int64_t log_samples(int64_t step, const Collected& c, const torch::Tensor& advantages);
  // The KL reference's log-probs of `sequences` ([N, Tc] float32, as GrpoLearner::score): the
  // reference model's, or with LoRA the policy's own with its adapters off.
  torch::Tensor reference_log_probs(const SequenceBatch& sequences);

  const ExperimentConfig& cfg_;
  RunContext& ctx_;
  distributed::ProcessGroup* data_parallel_;
  std::optional<policy::PolicyBundle> policy_;
  model::CausalLM reference_{nullptr};
  CheckpointContents checkpoint_;  // holds the reference once it differs from the initial policy
  std::unique_ptr<rollout::RolloutEngine> engine_;
  std::unique_ptr<GrpoLearner> learner_;
  std::unique_ptr<rewards::RewardSet> rewards_;
  std::vector<datasets::Record> train_, eval_;
  std::optional<datasets::ShuffleSampler> sampler_;
  int64_t correct_index_ = 0;
  rewards::AuditAlarm audit_alarm_{cfg_.audit};
  // Scores finished groups during the rollout (collect()); one thread keeps them in order of
  // finishing, and RewardSet spreads each group's samples over its own pools.
  ThreadPool scorer_{1};
};

void GrpoRun::setup() {
  const std::filesystem::path start = ctx_.checkpoint ? *ctx_.checkpoint : std::filesystem::path(cfg_.policy.path);
  require(!start.empty(), "policy.path is empty: name the Hugging Face directory of the policy");
  policy_.emplace(load_trained_policy(cfg_.policy, start, cfg_.policy.tokenizer, ctx_.device));
  // LoRA: the reference is the policy with its adapters off (reference_log_probs), no second model.
  require(!cfg_.policy.lora.enabled() || cfg_.rl.ref_refresh_steps == 0,
          "rl.ref_refresh_steps: with policy.lora the KL reference is the frozen base; set it to 0");
  if (cfg_.rl.kl_beta > 0 && !cfg_.policy.lora.enabled()) {
    const auto saved_ref = ctx_.checkpoint ? *ctx_.checkpoint / "reference" : std::filesystem::path();
    const bool refreshed = !saved_ref.empty() && std::filesystem::exists(saved_ref);
    reference_ = load_frozen_model(refreshed ? saved_ref : std::filesystem::path(cfg_.policy.path), ctx_);
    if (refreshed) checkpoint_.reference = &reference_;
  }

  rewards_ = std::make_unique<rewards::RewardSet>(cfg_.rewards);
  correct_index_ = static_cast<int64_t>(rewards_->correctness_index());
  train_ = read_records(cfg_.data.train);
  eval_ = read_eval_records(cfg_.data);
  sampler_.emplace(start_sampler(ctx_, static_cast<int64_t>(train_.size()), cfg_.run.seed));

  // The learner first: it repacks the policy's parameters into flat buffers, and the engine
  // (colocated: the same tensors, no copy) must see them where they will stay.
  learner_ = std::make_unique<GrpoLearner>(policy_->model, cfg_.rl, cfg_.optim, cfg_.rollout.temperature,
                                           cfg_.rollout.max_new_tokens, cfg_.train.steps, ctx_.dtype, data_parallel_,
                                           static_cast<int>(cfg_.distributed.zero_stage));
  if (ctx_.checkpoint) learner_->optimizer().load(*ctx_.checkpoint);
  checkpoint_.policy = &*policy_;
  checkpoint_.optimizer = &learner_->optimizer();
  engine_ = policy::make_engine(*policy_, cfg_.rollout, policy::longest_prompt(*policy_, {&train_, &eval_}),
                                /*min_slots=*/1, cfg_.policy.lora.merged_rollout());
  refresh_engine_weights(*engine_, policy_->model);  // a resumed LoRA policy's adapters into an engine copy
  engine_->record_routes();  // MoE policies: the rollout's router health, and routing replay
  logging::info(strformat("policy %s (%lld layers, vocab %lld), %zu train / %zu eval records, rewards: %s",
                          start.string().c_str(), static_cast<long long>(policy_->model->config().num_hidden_layers),
                          static_cast<long long>(policy_->model->config().vocab_size), train_.size(), eval_.size(),
                          join(rewards_->names(), ", ").c_str()));
}

torch::Tensor GrpoRun::reference_log_probs(const SequenceBatch& sequences) {
  if (!cfg_.policy.lora.enabled()) return learner_->score(reference_, sequences);
  model::LoraDisabled base(policy_->model);
  return learner_->score(policy_->model, sequences);
}

std::vector<Scored> GrpoRun::score_group(int64_t record, const std::vector<int64_t>& prompt_ids,
                                         const std::vector<rollout::Completion>& completions) const {
  const auto& rec = train_[record];
  const std::string prompt = policy_->render_prompt(rec);
  std::vector<Scored> group;
  std::vector<rewards::Sample> samples;
  for (const auto& c : completions) {
    Scored s;
    s.record = record;
    s.prompt_ids = prompt_ids;
    s.completion_ids = c.token_ids;
    s.rollout_logprobs = c.logprobs;
    s.routes = c.routes;
    s.truncated = c.finish_reason == rollout::FinishReason::kLength;
    s.prompt = prompt;
    s.completion = policy_->decode(c.token_ids, /*skip_special_tokens=*/true);
    samples.push_back({prompt, s.completion, rec.answer, rec.extra, static_cast<long>(c.token_ids.size()), s.truncated});
    group.push_back(std::move(s));
  }
  const auto scores =
      rewards_->score(samples, [&](size_t) { return rec.source.file + ":" + std::to_string(rec.source.line); });
  for (size_t j = 0; j < group.size(); ++j) {
    group[j].reward_values = scores.values[j];
    group[j].reasons = scores.reasons[j];
    group[j].total = scores.totals[j];
  }
  return group;
}

Collected GrpoRun::collect(int64_t step) {
  Collected out;
  // Data parallel: every rank draws the step's prompts (the samplers stay in step) and keeps
  // prompts rank, rank + W, ...: whole groups, so advantages are those of one process.
  const int64_t ranks = data_parallel_ ? data_parallel_->size() : 1, rank = data_parallel_ ? data_parallel_->rank() : 0;
  const int64_t g = cfg_.rl.group_size, prompts = cfg_.rl.batch_size / g / ranks;
  std::vector<Scored> dropped;
  while (static_cast<int64_t>(out.completions.size()) < cfg_.rl.batch_size / ranks) {
    const int64_t need = prompts - static_cast<int64_t>(out.completions.size()) / g;
    std::vector<int64_t> indices = sampler_->next_batch(need * ranks);
    for (int64_t i = 0; i < need; ++i) indices[static_cast<size_t>(i)] = indices[static_cast<size_t>(i * ranks + rank)];
    indices.resize(static_cast<size_t>(need));
    const uint64_t round_seed = step_seed(cfg_.run.seed, step, out.rounds);
    const uint64_t rollout_seed = rank == 0 ? round_seed : step_seed(round_seed, rank, 0);
    std::vector<rollout::GenerationRequest> requests;
    for (int64_t idx : indices)
      requests.push_back(policy::sampling_request(cfg_.rollout, *policy_, policy_->encode_prompt(train_[idx]), g));
    // On a GPU each group is scored as soon as its last sample finishes, on scorer_'s thread,
    // while the engine decodes the others: reward time hides behind the rollout's long tail, and
    // only what is left after the last group is waited for (time/reward_s). On the CPU the
    // groups are scored after the rollout: there the engine runs OpenBLAS, whose fork handler
    // deadlocks a reward process (code, external) forked while a BLAS call is running.
    std::vector<std::future<std::vector<Scored>>> scored(indices.size());
    auto score_later = [&](size_t r, const std::vector<rollout::Completion>& completions) {
      scored[r] = scorer_.submit([this, &requests, &indices, r, completions] {
        return score_group(indices[r], requests[r].prompt_ids, completions);
      });
    };
    const bool overlap = ctx_.device.is_cuda();
    auto t0 = Clock::now();
    try {
      const auto gen = engine_->generate(requests, rollout_seed, nullptr,
                                         overlap ? rollout::GroupDoneFn(score_later) : rollout::GroupDoneFn());
      out.generated_tokens += gen.stats.generated_tokens;
      if (!overlap)
        for (size_t r = 0; r < gen.completions.size(); ++r) score_later(r, gen.completions[r]);
    } catch (...) {
      for (auto& f : scored)  // the tasks read this frame's requests: finish them first
        if (f.valid()) f.wait();
      throw;
    }
    out.rollout_seconds += since(t0);

    t0 = Clock::now();
    std::vector<Scored> batch;
    for (auto& f : scored) {
      auto group = f.get();
      batch.insert(batch.end(), std::make_move_iterator(group.begin()), std::make_move_iterator(group.end()));
    }
    out.reward_seconds += since(t0);

    const Groups groups(static_cast<int64_t>(batch.size()), g);
    std::vector<double> totals;
    for (const auto& s : batch) totals.push_back(s.total);
    const auto zero_variance = groups.zero_variance(torch::tensor(totals, torch::kFloat64));
    for (int64_t k = 0; k < groups.count(); ++k) {
      ++out.groups_generated;
      const bool flat = zero_variance[k].item<bool>();
      out.groups_zero_std += flat;
      auto& dest = (cfg_.rl.dynamic_sampling && flat) ? dropped : out.completions;
      const auto first = batch.begin() + groups.first_row(k);
      dest.insert(dest.end(), std::make_move_iterator(first), std::make_move_iterator(first + g));
    }
    ++out.rounds;
    if (!cfg_.rl.dynamic_sampling) break;
    if (out.rounds > cfg_.rl.dynamic_sampling_max_rounds) {
      // DAPO gives up after its bound; we keep training on what we have, topped up with flat
      // groups (zero advantage: they add no gradient), and say so.
      const size_t missing = cfg_.rl.batch_size - out.completions.size();
      out.completions.insert(out.completions.end(), dropped.begin(), dropped.begin() + std::min(missing, dropped.size()));
      ctx_.store->log_event("warn", "dynamic_sampling",
                            "bound of " + std::to_string(cfg_.rl.dynamic_sampling_max_rounds) +
                                " extra rounds reached; filled with zero-variance groups",
                            step);
      break;
    }
  }
  return out;
}

LearnerBatch GrpoRun::learner_batch(const Collected& c, torch::Tensor advantages) {
  std::vector<std::vector<int64_t>> prompts, completions;
  for (const auto& s : c.completions) {
    prompts.push_back(s.prompt_ids);
    completions.push_back(s.completion_ids);
  }
  LearnerBatch b;
  b.sequences = make_sequence_batch(prompts, completions, ctx_.device);
  const int64_t n = b.sequences.rows();
  std::vector<const std::vector<float>*> logprobs;
  auto row_keep = torch::ones({n, 1}, torch::kFloat32);
  for (int64_t i = 0; i < n; ++i) {
    logprobs.push_back(&c.completions[i].rollout_logprobs);
    if (cfg_.rl.mask_truncated && c.completions[i].truncated) row_keep[i] = 0.0f;
  }
  b.rollout_logprobs = completion_aligned(b.sequences, logprobs, ctx_.device);
  if (cfg_.rl.moe_routing_replay == "rollout") b.replayed_routes = replayed_routes(route_records(c), b.sequences, *policy_->model);
  b.loss_mask = b.sequences.completion_mask * row_keep.to(ctx_.device);
  b.advantages = advantages.to(ctx_.device);
  return b;
}

std::map<std::string, double> GrpoRun::step_metrics(const Collected& c, const torch::Tensor& advantages) {
  StepCompletions step;
  double total = 0, total_sq = 0;
  for (const auto& s : c.completions) {
    step.values.push_back(s.reward_values);
    step.lengths.push_back(static_cast<int64_t>(s.completion_ids.size()));
    step.truncated.push_back(s.truncated);
    step.texts.push_back(s.completion);
    total += s.total;
    total_sq += s.total * s.total;
  }
  auto m = completion_metrics(*rewards_, step, cfg_.metrics.reflection_phrases);
  const auto& lengths = step.lengths;
  const double n = static_cast<double>(c.completions.size());
  m["reward/total_mean"] = total / n;
  m["reward/total_std"] = std::sqrt(std::max(0.0, total_sq / n - (total / n) * (total / n)));
  m["completion/length_min"] = static_cast<double>(*std::min_element(lengths.begin(), lengths.end()));
  m["completion/length_max"] = static_cast<double>(*std::max_element(lengths.begin(), lengths.end()));
  m["groups/zero_std_frac"] = static_cast<double>(c.groups_zero_std) / std::max<int64_t>(1, c.groups_generated);
  m["groups/generation_rounds"] = static_cast<double>(c.rounds);
  m["advantages/abs_mean"] = advantages.abs().mean().item<double>();
  return m;
}

// The hacking audit of this step's completions (rewards/audit.h); a metric that crosses its
// threshold is logged as a warning and a run event.
std::map<std::string, double> GrpoRun::audit_step(int64_t step, const Collected& c) {
  const auto roles = rewards::audit_roles(rewards_->kinds(), static_cast<size_t>(correct_index_));
  const Groups groups(static_cast<int64_t>(c.completions.size()), cfg_.rl.group_size);
  std::vector<rewards::AuditSample> samples;
  samples.reserve(c.completions.size());
  for (size_t i = 0; i < c.completions.size(); ++i) {
    const auto& s = c.completions[i];
    samples.push_back(rewards::audit_sample(s.prompt, s.completion, groups.group_of(static_cast<int64_t>(i)),
                                            s.reward_values, roles));
  }
  auto metrics = rewards::audit_metrics(samples, {roles.answers_are_values});
  for (const auto& message : audit_alarm_.crossed(metrics)) {
    logging::warn("step " + std::to_string(step) + ": " + message);
    ctx_.store->log_event("warn", "audit", message, step);
  }
  return metrics;
}

int64_t GrpoRun::log_samples(int64_t step, const Collected& c, const torch::Tensor& advantages) {
  std::vector<SampleRecord> records;
  const auto& names = rewards_->names();
  const Groups groups(static_cast<int64_t>(c.completions.size()), cfg_.rl.group_size);
  int64_t dropped = 0;
  auto warn_dropped = [&](int64_t count, const std::string& why) {
    dropped += count;
    logging::warn(strformat("step %lld: %lld sample(s) not logged: %s", static_cast<long long>(step),
                            static_cast<long long>(count), why.c_str()));
  };
  for (int64_t i = 0; i < std::min<int64_t>(cfg_.train.log_samples, c.completions.size()); ++i) {
    try {
      const auto& s = c.completions[i];
      SampleRecord r;
      r.step = step;
      r.prompt_index = groups.group_of(i);
      r.sample_index = groups.index_in_group(i);
      r.prompt = s.prompt;
      r.completion = s.completion;  // the store replaces bytes that are not UTF-8; the ids stay exact
      nlohmann::json reasons = nlohmann::json::object();
      for (size_t k = 0; k < names.size(); ++k) {
        r.rewards[names[k]] = s.reward_values[k];
        reasons[names[k]] = s.reasons[k];
      }
      r.reward = s.total;
      r.advantage = advantages[i].item<double>();
      r.extra = {{"reasons", reasons}, {"length", s.completion_ids.size()}, {"truncated", s.truncated},
                 {"answer", train_[s.record].answer}, {"completion_ids", s.completion_ids}};
      records.push_back(std::move(r));
    } catch (const std::exception& e) {
      warn_dropped(1, e.what());
    }
  }
  try {
    ctx_.log_samples(records);
  } catch (const std::exception& e) {
    warn_dropped(static_cast<int64_t>(records.size()), e.what());
  }
  return dropped;
}

void GrpoRun::run() {
  setup();
  EvalFn evaluate;
  if (!eval_.empty())
    evaluate = [this](int64_t step) { evaluate_and_log(ctx_, cfg_, *engine_, *policy_, eval_, *rewards_, step); };
  const StageLoop loop("grpo", cfg_.train);
  auto step = [this, &loop](int64_t step) {
    train_step(step);
    // ZeRO-1: the shards of the optimizer state gathered on every rank before rank 0 saves them.
    if (loop.save_due(step)) learner_->optimizer().gather_shards();
    return std::string();
  };
  run_stage_loop(ctx_, loop, checkpoint_, *sampler_, step, evaluate);
  save_final_policy(ctx_, *policy_, "policy");
}

void GrpoRun::train_step(int64_t step) {
  const auto t_step = Clock::now();
  Collected c = collect(step);
  auto rewards = torch::empty({static_cast<int64_t>(c.completions.size())}, torch::kFloat32);
  for (size_t i = 0; i < c.completions.size(); ++i) rewards[i] = static_cast<float>(c.completions[i].total);
  auto t0 = Clock::now();
  LearnerBatch batch = learner_batch(c, torch::zeros_like(rewards));
  std::map<std::string, double> metrics;
  if (cfg_.rl.kl_beta > 0) {
    batch.ref_logprobs = reference_log_probs(batch.sequences);
    if (cfg_.rl.kl_in_reward) {
      auto current = learner_->score(policy_->model, batch.sequences);
      auto kl = kl_estimate(cfg_.rl.kl_estimator, current, batch.ref_logprobs);
      auto shaped = subtract_kl_from_rewards(rewards.to(ctx_.device), kl, batch.loss_mask, cfg_.rl.kl_beta);
      rewards = shaped.rewards.cpu();
      for (const auto& [k, v] : metric_values(shaped.metrics)) metrics[k] = v;
    }
  }
  AdvantageOptions ao;
  ao.group_size = cfg_.rl.group_size;
  ao.epsilon = cfg_.rl.advantage_epsilon;
  ao.scaling = parse_reward_scaling(cfg_.rl.reward_scaling);
  ao.token_counts = batch.sequences.completion_mask.sum(1).cpu();
  auto adv = compute_advantages(cfg_.rl.advantage, rewards, ao);
  batch.advantages = adv.advantages.to(ctx_.device);
  for (const auto& [k, v] : metric_values(adv.metrics)) metrics[k] = v;
  const auto report = learner_->update(batch, step - 1);
  auto rollout_health = rollout_router_health(c, *policy_->model);
  metrics.insert(rollout_health.metrics.begin(), rollout_health.metrics.end());
  auto histograms = report.histograms;
  histograms.insert(rollout_health.histograms.begin(), rollout_health.histograms.end());
  ctx_.log_histograms(step, histograms);
  refresh_engine_weights(*engine_, policy_->model);  // the engine's own copy (LoRA merged); colocated: nothing
  const double learn_s = since(t0);
  for (const auto& [k, v] : report.metrics) metrics[k] = v;
  for (const auto& [k, v] : step_metrics(c, adv.advantages)) metrics[k] = v;
  for (const auto& [k, v] : audit_step(step, c)) metrics[k] = v;
  const double step_s = since(t_step);
  metrics["time/rollout_s"] = c.rollout_seconds;
  metrics["time/reward_s"] = c.reward_seconds;
  metrics["time/learner_s"] = learn_s;
  metrics["time/step_s"] = step_s;
  metrics["memory/peak_gib"] = peak_memory_gib(ctx_.device);
  metrics["perf/rollout_tok_per_s"] = c.generated_tokens / std::max(1e-9, c.rollout_seconds);
  metrics["perf/learner_tok_per_s"] = report.trained_tokens * cfg_.rl.num_iterations / std::max(1e-9, learn_s);
  if (report.skipped_steps > 0)
    ctx_.store->log_event("warn", "skipped_step", "non-finite loss or gradient: optimizer step skipped", step);
  if (cfg_.rl.kl_beta > 0 && cfg_.rl.ref_refresh_steps > 0 && step % cfg_.rl.ref_refresh_steps == 0) {
    torch::NoGradGuard no_grad;
    auto src = policy_->model->parameters();
    auto dst = reference_->parameters();
    for (size_t i = 0; i < src.size(); ++i) dst[i].copy_(src[i]);
    checkpoint_.reference = &reference_;
    ctx_.store->log_event("info", "reference_refresh", "reference model := policy", step);
  }
  metrics["log/samples_dropped"] = static_cast<double>(log_samples(step, c, adv.advantages));
  ctx_.log(step, metrics);
  logging::info(strformat("step %lld/%lld | reward %.3f | acc %.3f | len %.1f | entropy %.3f | %.1fs (rollout %.1f, "
                          "reward %.1f, learner %.1f)",
                          static_cast<long long>(step), static_cast<long long>(cfg_.train.steps),
                          metrics["reward/total_mean"], metrics["reward/accuracy"], metrics["completion/length_mean"],
                          metrics.count("actor/entropy") ? metrics["actor/entropy"] : 0.0, step_s, c.rollout_seconds,
                          c.reward_seconds, learn_s));
}

// What data parallelism does not cover yet, refused before any work: features whose statistics
// span the whole batch or whose sampler draws differ per rank.
void check_data_parallel_run(const ExperimentConfig& config, int world_size) {
  check_data_parallel_split(config.rl, world_size);
  const std::string across = " is not data-parallel yet (it needs statistics or draws across ranks); run one process";
  require(!config.rl.dynamic_sampling, "rl.dynamic_sampling: true" + across);
  require(config.rl.reward_scaling != "batch", "rl.reward_scaling: batch" + across);
  require(config.rl.advantage != "reinforce_plus_plus_baseline", "rl.advantage: reinforce_plus_plus_baseline" + across);
}

// Several ranks: each runs the whole loop on its share of every step; rank 0 writes the run
// (store, log, checkpoints, final model), the others keep the log and metrics of their share in
// <run>/ranks/<rank>, print warnings only, and save nothing. --resume: every rank resumes from
// rank 0's newest checkpoint, whatever world size wrote it (the checkpoint files are those of one
// process, ZeRO-1 included); rank r > 0 continues its own log when it has one.
std::string run_grpo_data_parallel(const ExperimentConfig& config, const RunRequest& request,
                                   const distributed::World& world) {
  check_data_parallel_run(config, world.size);
  distributed::RendezvousOptions options;
  options.timeout = distributed::timeout_from_environment();
  options.backend = distributed::backend_for(parse_device(config.run.device));
  options.config_fingerprint = distributed::fingerprint(request.config_text);
  auto group = distributed::rendezvous(world, options);
  RunRequest rank_request = request;
  rank_request.data_parallel = true;
  const std::string run_dir = request.run_dir.empty() ? config.run.output_dir : request.run_dir;
  if (!world.is_main()) {
    rank_request.run_dir = run_dir + "/ranks/" + std::to_string(world.rank);
    rank_request.resume = request.resume && std::filesystem::exists(rank_request.run_dir + "/run.db");
    group->barrier();  // rank 0 has made the run directory
  }
  return run_stage(config, rank_request, "grpo", [&](RunContext& ctx) {
    if (world.is_main()) group->barrier();
    if (!world.is_main()) logging::set_level("warn");
    if (ctx.device.is_cuda()) ctx.device = torch::Device(torch::kCUDA, static_cast<c10::DeviceIndex>(world.local_rank));
    ctx.saves_checkpoints = world.is_main();
    if (request.resume && !world.is_main()) {  // rank 0's checkpoint, opened by rank 0 before the barrier
      ctx.checkpoint = latest_checkpoint(std::filesystem::path(run_dir) / "checkpoints");
      ctx.state = ctx.checkpoint ? read_trainer_state(*ctx.checkpoint) : TrainerState{};
    }
    GrpoRun run(config, ctx, group.get());
    run.run();
  });
}

}  // namespace

std::string run_grpo(const ExperimentConfig& config, const RunRequest& request) {
  const auto world = distributed::world_from_environment();
  if (world.distributed()) return run_grpo_data_parallel(config, request, world);
  return run_stage(config, request, "grpo", [&](RunContext& ctx) {
    GrpoRun run(config, ctx, nullptr);
    run.run();
  });
}

}  // namespace grpo::rl
