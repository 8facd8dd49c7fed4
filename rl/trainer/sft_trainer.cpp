// Supervised fine-tuning and pre-training; see sft_trainer.h.
#include "rl/trainer/sft_trainer.h"


#include <chrono>
#include <fstream>

#include "core/error.h"
#include "core/strings.h"
#include "core/logging.h"
#include "core/torch/device.h"
#include "model/arch/config.h"
#include "model/io/model_io.h"
#include "model/tokenizer/bpe_trainer.h"
#include "rl/learner/grad_accumulation.h"
#include "rl/stage/stage_loop.h"
#include "rl/stage/stage_setup.h"
#include "rl/trainer/stage_optimizer.h"

namespace fs = std::filesystem;

namespace grpo::rl {
namespace {

using Clock = std::chrono::steady_clock;

std::string response_of(const datasets::Record& r, const std::string& field) {
  if (!r.extra.contains(field) || !r.extra[field].is_string())
    throw Error(SourceLocation{r.source.file, r.source.line, 0},
                "record has no string field '" + field + "' (sft.response_field)");
  return r.extra[field].get<std::string>();
}

// A new model from sft.init_config with a tokenizer (given, or trained on the training text),
// written to RUN_DIR/init so that checkpoints can copy its tokenizer files.
fs::path create_initial_policy(const ExperimentConfig& cfg, const std::vector<datasets::Record>& records,
                               const fs::path& run_dir) {
  const fs::path init = run_dir / "init";
  fs::create_directories(init);
  auto config = model::load_model_config(fs::path(cfg.sft.init_config).parent_path());
  if (fs::path(cfg.sft.init_config).filename() != "config.json")
    throw Error(SourceLocation{cfg.sft.init_config, 0, 0}, "sft.init_config must name a config.json file");
  if (!cfg.sft.init_tokenizer.empty()) {
    fs::copy_file(cfg.sft.init_tokenizer, init / "tokenizer.json", fs::copy_options::overwrite_existing);
  } else {
    std::vector<std::string> corpus;
    const auto tmpl = policy::template_named(cfg.policy.template_name);
    if (tmpl) corpus.push_back(tmpl->render_prompt(""));
    for (const auto& r : records) {
      corpus.push_back(r.prompt);
      if (r.extra.contains(cfg.sft.response_field)) corpus.push_back(r.extra[cfg.sft.response_field].get<std::string>());
    }
    BpeTrainerOptions bo;
    bo.vocab_size = static_cast<size_t>(std::min(cfg.sft.tokenizer_vocab, config.vocab_size));
    write_byte_level_bpe((init / "tokenizer.json").string(), corpus, bo);
  }
  std::ofstream(init / "tokenizer_config.json") << nlohmann::json{{"eos_token", "<|endoftext|>"}}.dump(2) << "\n";
  model::CausalLM model(config);
  model::init_weights(model, static_cast<uint64_t>(cfg.run.seed));
  model::SaveOptions so;
  so.source_dir = init;
  model::save_model(model, init, so);
  return init;
}

}  // namespace

std::vector<SftExample> make_sft_examples(const std::vector<datasets::Record>& records, const policy::PolicyBundle& policy,
                                          const SftSettings& settings) {
  std::vector<SftExample> out;
  out.reserve(records.size());
  for (const auto& r : records) {
    SftExample e;
    const std::string response = response_of(r, settings.response_field);
    if (settings.mode == "text") {
      auto ids = policy.encode(policy.render_prompt(r) + response, /*add_special_tokens=*/true);
      require(ids.size() >= 2, r.source.file + ":" + std::to_string(r.source.line) + ": text shorter than two tokens");
      e.prompt.assign(ids.begin(), ids.begin() + 1);
      e.target.assign(ids.begin() + 1, ids.end());
    } else {
      e.prompt = policy.encode_prompt(r);
      e.target = policy.encode(response, /*add_special_tokens=*/false);
    }
    if (!policy.stop_token_ids.empty()) e.target.push_back(policy.stop_token_ids.front());
    const int64_t budget = std::max<int64_t>(settings.max_length - static_cast<int64_t>(e.prompt.size()), 1);
    if (static_cast<int64_t>(e.target.size()) > budget) e.target.resize(budget);
    if (e.prompt.empty() || e.target.empty())
      throw Error(SourceLocation{r.source.file, r.source.line, 0}, "empty prompt or response after tokenization");
    out.push_back(std::move(e));
  }
  return out;
}

torch::Tensor sft_batch_loss(model::CausalLM& model, const SequenceBatch& batch) {
  auto lp = completion_logprobs(model, batch, 1.0);
  return -(lp.logprobs * batch.completion_mask).sum() / batch.completion_mask.sum().clamp_min(1.0);
}

double sft_eval_loss(policy::PolicyBundle& policy, const std::vector<SftExample>& examples, int64_t batch_size) {
  torch::NoGradGuard no_grad;
  const auto device = policy.model->parameters().front().device();
  double nll = 0, tokens = 0;
  for (size_t b = 0; b < examples.size(); b += batch_size) {
    std::vector<std::vector<int64_t>> prompts, targets;
    for (size_t i = b; i < std::min(examples.size(), b + batch_size); ++i) {
      prompts.push_back(examples[i].prompt);
      targets.push_back(examples[i].target);
    }
    auto batch = make_sequence_batch(prompts, targets, device);
    const double count = batch.completion_mask.sum().item<double>();
    nll += sft_batch_loss(policy.model, batch).item<double>() * count;
    tokens += count;
  }
  return nll / std::max(1.0, tokens);
}

namespace {

policy::PolicyBundle load_sft_policy(const ExperimentConfig& cfg, RunContext& ctx, const std::vector<datasets::Record>& train) {
  fs::path start;
  if (ctx.checkpoint) start = *ctx.checkpoint;
  else if (!cfg.sft.init_config.empty()) start = create_initial_policy(cfg, train, ctx.dir.path());
  else start = cfg.policy.path;
  require(!start.empty(), "neither policy.path nor sft.init_config is set: nothing to fine-tune");
  const bool own_tokenizer = ctx.checkpoint || !cfg.sft.init_config.empty();
  return load_trained_policy(cfg.policy, start, own_tokenizer ? "" : cfg.policy.tokenizer, ctx.device);
}

}  // namespace

SftOutcome train_sft(const ExperimentConfig& cfg, RunContext& ctx, const std::vector<datasets::Record>& train,
                     const std::vector<datasets::Record>& eval) {
  policy::PolicyBundle policy = load_sft_policy(cfg, ctx, train);
  const auto examples = make_sft_examples(train, policy, cfg.sft);
  const auto eval_examples = make_sft_examples(eval, policy, cfg.sft);

  const int64_t n = static_cast<int64_t>(examples.size());
  const int64_t per_epoch = (n + cfg.sft.batch_size - 1) / cfg.sft.batch_size;
  int64_t total = per_epoch * cfg.sft.epochs;
  if (cfg.sft.max_steps > 0) total = std::min(total, cfg.sft.max_steps);
  StageOptimizer optimizer(policy.model, cfg.optim, total, ctx.dtype);
  if (ctx.checkpoint) optimizer.load(*ctx.checkpoint);

  auto sampler = start_sampler(ctx, n, cfg.run.seed);
  const int64_t micro = cfg.sft.micro_batch_size > 0 ? cfg.sft.micro_batch_size : cfg.sft.batch_size;
  logging::info(strformat("sft: %lld examples (%zu eval), %lld steps of %lld (%lld per epoch), mode %s", static_cast<long long>(n), eval_examples.size(), static_cast<long long>(total),
               static_cast<long long>(cfg.sft.batch_size), static_cast<long long>(per_epoch), cfg.sft.mode.c_str()));
  auto eval_loss = [&](int64_t step) {
    if (eval_examples.empty()) return;
    const double loss = sft_eval_loss(policy, eval_examples, micro);
    ctx.log(step, {{"eval/loss", loss}});
    logging::info(strformat("eval step %lld: loss %.4f", static_cast<long long>(step), loss));
  };
  auto train_step = [&](int64_t step) {
    const auto t0 = Clock::now();
    const auto indices = sampler.next_batch(cfg.sft.batch_size);
    std::vector<std::vector<int64_t>> prompts, targets;
    for (int64_t i : indices) {
      prompts.push_back(examples[i].prompt);
      targets.push_back(examples[i].target);
    }
    auto batch = make_sequence_batch(prompts, targets, ctx.device);
    MicroBatchLimit limit;
    limit.rows = micro;
    const auto plan = plan_micro_batches(batch.completion_mask, sequence_lengths(batch), limit, "token-mean");
    double loss_sum = 0;
    for (const auto& mb : plan) {
      auto loss = sft_batch_loss(policy.model, select_rows(batch, mb.rows));
      optimizer.backward(loss * mb.loss_weight);
      loss_sum += loss.item<double>() * mb.loss_weight;
    }
    const double lr = optimizer.lr_at(step);
    const auto sr = optimizer.step(step, loss_sum);
    const double seconds = std::chrono::duration<double>(Clock::now() - t0).count();
    const double tokens = batch.completion_mask.sum().item<double>();
    const double all_tokens = batch.attention_mask.sum().item<double>();  // prompt + response, as benchmarks count
    ctx.log(step, {{"sft/loss", loss_sum}, {"optim/lr", lr}, {"optim/grad_norm", sr.grad.norm},
                   {"perf/tokens_per_s", tokens / std::max(1e-9, seconds)},
                   {"perf/sequence_tokens_per_s", all_tokens / std::max(1e-9, seconds)},
                   {"memory/peak_gib", peak_memory_gib(ctx.device)}});
    if (optimizer.loss_scale() != 1.0) ctx.log(step, {{"optim/loss_scale", optimizer.loss_scale()}});
    if (sr.skipped) ctx.store->log_event("warn", "skipped_step", "non-finite loss or gradient", step);
    if (step % 25 == 0 || step == total) logging::info(strformat("sft step %lld/%lld | loss %.4f | lr %.2e", static_cast<long long>(step), static_cast<long long>(total), loss_sum, lr));
    return "loss " + std::to_string(loss_sum).substr(0, 6);
  };
  StageLoop loop("sft", cfg.train);
  loop.steps = total;
  loop.eval_every = cfg.sft.eval_every;
  loop.eval_at_ends = false;  // the final eval loss comes after the loop, in eval mode
  policy.model->train();
  run_stage_loop(ctx, loop, {&policy, &optimizer}, sampler, train_step, eval_loss);
  policy.model->eval();
  eval_loss(total);
  return {save_final_policy(ctx, policy, "policy"), total};
}

std::string run_sft(const ExperimentConfig& cfg, const RunRequest& request) {
  return run_stage(cfg, request, "sft", [&](RunContext& ctx) {
    train_sft(cfg, ctx, read_records(cfg.data.train), read_eval_records(cfg.data));
  });
}

}  // namespace grpo::rl
