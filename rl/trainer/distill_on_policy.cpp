// The on-policy logit-distillation loop; see distill_on_policy.h.
#include "rl/trainer/distill_on_policy.h"


#include <algorithm>
#include <chrono>
#include <filesystem>
#include <optional>

#include "core/error.h"
#include "core/strings.h"
#include "core/logging.h"
#include "policy/engine_factory.h"
#include "policy/sampling_request.h"
#include "rl/learner/grad_accumulation.h"
#include "rl/stage/completion_metrics.h"
#include "rl/stage/stage_loop.h"
#include "rl/stage/stage_setup.h"
#include "rl/trainer/reverse_kl.h"
#include "rl/trainer/sequence_batch.h"
#include "rl/trainer/stage_optimizer.h"

namespace grpo::rl {
namespace {

using Clock = std::chrono::steady_clock;
double since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

// Final hidden states at the positions that predict each completion token: [N, Tc, H].
torch::Tensor predicting_hidden(model::CausalLM& model, const SequenceBatch& batch) {
  model::ForwardInput in;
  in.input_ids = batch.input_ids;
  in.attention_mask = batch.attention_mask;
  auto hidden = model->forward(in).hidden;
  return hidden.gather(1, batch.predict_from.unsqueeze(-1).expand({-1, -1, hidden.size(-1)}));
}

// The KL is per token id, so both models must give ids the same meaning.
void require_same_tokenizer(const policy::PolicyBundle& student, const policy::PolicyBundle& teacher, const datasets::Record& probe) {
  const auto a = student.tokenizer.vocab_size(), b = teacher.tokenizer.vocab_size();
  if (a != b)
    throw Error("on_policy_kl needs one tokenizer for student and teacher: the student's has " + std::to_string(a) +
                " tokens, the teacher's " + std::to_string(b));
  const std::string text = probe.is_chat() ? probe.messages.front().content : probe.prompt;
  if (student.encode(text, false) != teacher.encode(text, false))
    throw Error("on_policy_kl needs one tokenizer for student and teacher: they encode the prompt of " +
                probe.source.file + ":" + std::to_string(probe.source.line) + " differently");
}

// One step's samples: both models' prompt ids, the student's completions, and their scores.
struct StepSamples {
  std::vector<std::vector<int64_t>> student_prompts, teacher_prompts, completions;
  std::vector<rewards::Sample> scored;
  int64_t generated_tokens = 0;
};

class OnPolicyDistill {
 public:
  OnPolicyDistill(const ExperimentConfig& cfg, RunContext& ctx) : cfg_(cfg), ctx_(ctx), rewards_(cfg.rewards) {}
  void run();

 private:
  void setup();
  std::string train_step(int64_t step);
  StepSamples sample(int64_t step);
  double learn(const StepSamples& s, int64_t step, std::map<std::string, double>& metrics);
  void score_metrics(const StepSamples& s, std::map<std::string, double>& metrics);

  const ExperimentConfig& cfg_;
  RunContext& ctx_;
  rewards::RewardSet rewards_;
  std::optional<policy::PolicyBundle> student_, teacher_;
  std::vector<datasets::Record> train_, eval_;
  std::unique_ptr<rollout::RolloutEngine> engine_;
  std::unique_ptr<StageOptimizer> optimizer_;
  std::optional<datasets::ShuffleSampler> sampler_;
};

void OnPolicyDistill::setup() {
  const auto start = ctx_.checkpoint ? *ctx_.checkpoint : std::filesystem::path(cfg_.policy.path);
  student_.emplace(load_trained_policy(cfg_.policy, start, ctx_.checkpoint ? "" : cfg_.policy.tokenizer, ctx_.device));
  teacher_.emplace(load_teacher(cfg_, ctx_));
  train_ = read_records(cfg_.data.train);
  if (cfg_.train.eval_every > 0) eval_ = read_eval_records(cfg_.data);
  require_same_tokenizer(*student_, *teacher_, train_.front());
  // The optimizer first: it repacks the student's parameters, which the engine then shares.
  optimizer_ = std::make_unique<StageOptimizer>(student_->model, cfg_.optim, cfg_.train.steps, ctx_.dtype);
  if (ctx_.checkpoint) optimizer_->load(*ctx_.checkpoint);
  engine_ = policy::make_engine(*student_, cfg_.rollout, policy::longest_prompt(*student_, {&train_, &eval_}),
                                /*min_slots=*/1, cfg_.policy.lora.merged_rollout());
  refresh_engine_weights(*engine_, student_->model);  // a resumed LoRA student's adapters into an engine copy
  const auto n = static_cast<int64_t>(train_.size());
  sampler_.emplace(start_sampler(ctx_, n, cfg_.run.seed));
  logging::info(strformat("on-policy distillation: student %s (%lld layers), teacher %s (%lld layers), %lld prompts",
                          start.string().c_str(),
                          static_cast<long long>(student_->model->config().num_hidden_layers),
                          cfg_.distill.teacher.c_str(),
                          static_cast<long long>(teacher_->model->config().num_hidden_layers),
                          static_cast<long long>(n)));
}

StepSamples OnPolicyDistill::sample(int64_t step) {
  const auto indices = sampler_->next_batch(cfg_.distill.prompts_per_step);
  std::vector<rollout::GenerationRequest> requests;
  for (int64_t idx : indices)
    requests.push_back(policy::sampling_request(cfg_.rollout, *student_, student_->encode_prompt(train_[idx]),
                                                cfg_.distill.samples_per_prompt));
  const auto gen = engine_->generate(requests, step_seed(cfg_.run.seed, step, 0));
  StepSamples s;
  s.generated_tokens = gen.stats.generated_tokens;
  for (size_t i = 0; i < indices.size(); ++i) {
    const auto& rec = train_[indices[i]];
    const auto teacher_prompt = teacher_->encode_prompt(rec);
    const std::string rendered = student_->render_prompt(rec);
    for (const auto& c : gen.completions[i]) {
      s.student_prompts.push_back(requests[i].prompt_ids);
      s.teacher_prompts.push_back(teacher_prompt);
      s.completions.push_back(c.token_ids);
      s.scored.push_back({rendered, student_->decode(c.token_ids, /*skip_special_tokens=*/true), rec.answer, rec.extra,
                          static_cast<long>(c.token_ids.size()), c.finish_reason == rollout::FinishReason::kLength});
    }
  }
  return s;
}

// One optimizer step on the token-mean reverse KL; returns the loss.
double OnPolicyDistill::learn(const StepSamples& s, int64_t step, std::map<std::string, double>& metrics) {
  const auto student_batch = make_sequence_batch(s.student_prompts, s.completions, ctx_.device);
  const auto teacher_batch = make_sequence_batch(s.teacher_prompts, s.completions, ctx_.device);
  MicroBatchLimit limit;
  limit.rows = cfg_.distill.micro_batch_size;
  const auto plan = plan_micro_batches(student_batch.completion_mask, sequence_lengths(student_batch), limit, "token-mean");
  student_->model->train();
  double loss_sum = 0;
  for (const auto& mb : plan) {
    const auto sb = select_rows(student_batch, mb.rows);
    torch::Tensor teacher_hidden;
    {
      torch::NoGradGuard no_grad;
      teacher_hidden = predicting_hidden(teacher_->model, select_rows(teacher_batch, mb.rows));
    }
    const auto kl = chunked_reverse_kl(predicting_hidden(student_->model, sb), student_->model->output_weight(),
                                       teacher_hidden, teacher_->model->output_weight(), sb.completion_mask,
                                       cfg_.distill.kl_chunk_rows);
    const auto loss = (kl * sb.completion_mask).sum() / sb.completion_mask.sum().clamp_min(1.0);
    optimizer_->backward(loss * mb.loss_weight);
    loss_sum += loss.item<double>() * mb.loss_weight;
  }
  student_->model->eval();
  const auto report = optimizer_->step(step, loss_sum);
  refresh_engine_weights(*engine_, student_->model);  // the engine's own copy (LoRA merged); colocated: nothing
  if (report.skipped) ctx_.store->log_event("warn", "skipped_step", "non-finite loss or gradient", step);
  metrics["distill/reverse_kl"] = loss_sum;
  metrics["optim/lr"] = optimizer_->lr_at(step);
  metrics["optim/grad_norm"] = report.grad.norm;
  if (optimizer_->loss_scale() != 1.0) metrics["optim/loss_scale"] = optimizer_->loss_scale();
  metrics["distill/tokens"] = student_batch.completion_mask.sum().item<double>();
  return loss_sum;
}

void OnPolicyDistill::score_metrics(const StepSamples& s, std::map<std::string, double>& metrics) {
  StepCompletions step;
  for (const auto& sample : s.scored) {
    step.lengths.push_back(*sample.completion_tokens);
    step.truncated.push_back(sample.truncated);
    step.texts.push_back(sample.completion);
  }
  step.values = rewards_.score(s.scored).values;
  for (const auto& [k, v] : completion_metrics(rewards_, step, cfg_.metrics.reflection_phrases)) metrics[k] = v;
}

std::string OnPolicyDistill::train_step(int64_t step) {
  const auto t_step = Clock::now();
  std::map<std::string, double> metrics;
  const auto samples = sample(step);
  metrics["time/rollout_s"] = since(t_step);
  score_metrics(samples, metrics);
  const auto t_learn = Clock::now();
  const double loss = learn(samples, step, metrics);
  metrics["time/learner_s"] = since(t_learn);
  metrics["time/step_s"] = since(t_step);
  metrics["perf/rollout_tok_per_s"] = samples.generated_tokens / std::max(1e-9, metrics["time/rollout_s"]);
  ctx_.log(step, metrics);
  if (step % 10 == 0 || step == cfg_.train.steps)
    logging::info(strformat("distill step %lld/%lld | reverse KL %.4f | acc %.3f | len %.1f",
                            static_cast<long long>(step), static_cast<long long>(cfg_.train.steps), loss,
                            metrics["reward/accuracy"], metrics["completion/length_mean"]));
  return "KL " + std::to_string(loss).substr(0, 6);
}

void OnPolicyDistill::run() {
  setup();
  EvalFn evaluate;
  if (!eval_.empty())
    evaluate = [this](int64_t step) { evaluate_and_log(ctx_, cfg_, *engine_, *student_, eval_, rewards_, step); };
  run_stage_loop(ctx_, StageLoop("distill", cfg_.train), {&*student_, optimizer_.get()}, *sampler_,
                 [this](int64_t step) { return train_step(step); }, evaluate);
  save_final_policy(ctx_, *student_, "student");
}

}  // namespace

void run_on_policy_distill(const ExperimentConfig& config, RunContext& ctx) {
  OnPolicyDistill run(config, ctx);
  run.run();
}

}  // namespace grpo::rl
