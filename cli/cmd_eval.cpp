// `grpo eval --model DIR --data FILE --reward NAME [--k K] [--config FILE] [key=value ...]`:
// pass@1 (mean over k samples), unbiased pass@k, maj@k and mean length on a dataset; per-sample
// JSONL with --output; the results go into a run's store with --run-dir. Sampling follows the
// `rollout:` settings of the experiment config, as in training (experiment_args.h): one sample
// per prompt (train.eval_samples, --k) is greedy, more are drawn at rollout.temperature.
#include <fstream>
#include <iostream>

#include "cli/command.h"
#include "cli/experiment_args.h"
#include "core/error.h"
#include "core/run_store.h"
#include "core/text/json_lossy.h"
#include "core/torch/device.h"
#include "datasets/dataset_config.h"
#include "datasets/reader.h"
#include "policy/engine_factory.h"
#include "policy/evaluation.h"

namespace {

struct EvalArgs {
  std::string model, data, format = "prompt_answer", reward, output, run_dir, template_name = "r1_zero";
  std::vector<std::string> field_map;
  std::string reward_params = "{}";
  int64_t limit = 0, step = -1;
  grpo::cli::ExperimentArgs experiment;
};

void setup_eval(CLI::App& root) {
  auto a = std::make_shared<EvalArgs>();
  auto* cmd = root.add_subcommand("eval", "Evaluate a policy: pass@1, pass@k, maj@k, mean length");
  cmd->add_option("--model", a->model, "Hugging Face model directory")->required();
  cmd->add_option("--data", a->data, "Dataset file (JSONL or JSON array)")->required();
  cmd->add_option("--reward", a->reward, "Reward deciding correctness (math_accuracy, countdown, code, ...)")->required();
  cmd->add_option("--reward-params", a->reward_params, "The reward's parameters as JSON");
  cmd->add_option("--format", a->format, "gsm8k, math, math500, prompt_answer, chat, countdown");
  cmd->add_option("--field-map", a->field_map, "key=field renames, e.g. prompt=question");
  cmd->add_option("--template", a->template_name, "Prompt template (r1_zero, chatml, llama3, deepseek, raw)");
  cmd->add_option("--limit", a->limit, "Evaluate at most this many records (0 = all)");
  cmd->add_option("--output", a->output, "Per-sample JSONL output");
  cmd->add_option("--run-dir", a->run_dir, "Store the results in this run's run.db");
  cmd->add_option("--step", a->step, "Step to record the results at in --run-dir (default: the run's last step)");
  grpo::cli::add_experiment_options(cmd, a->experiment);
  grpo::cli::add_shorthand(cmd, a->experiment, "--k", "train.eval_samples", "Samples per prompt; 1 = greedy");
  grpo::cli::add_sampling_shorthands(cmd, a->experiment);
  cmd->callback([a] {
    const auto cfg = grpo::cli::load_experiment(a->experiment);
    grpo::set_cpu_threads(static_cast<int>(cfg.run.threads));
    grpo::datasets::DataSourceSettings ds;
    ds.path = a->data;
    ds.format = a->format;
    ds.field_map = a->field_map;
    ds.on_malformed = "error";
    auto records = grpo::datasets::read_dataset(a->data, grpo::datasets::read_options(ds)).records;
    if (a->limit > 0 && static_cast<int64_t>(records.size()) > a->limit) records.resize(a->limit);
    grpo::policy::PolicyLoad load;
    load.model_dir = a->model;
    load.template_name = a->template_name;
    load.device = grpo::parse_device(cfg.run.device);
    auto policy = grpo::policy::load_policy_bundle(load);
    nlohmann::json params;
    try {
      params = nlohmann::json::parse(a->reward_params);
    } catch (const nlohmann::json::exception& e) {
      throw grpo::Error("--reward-params is not valid JSON: " + std::string(e.what()));
    }
    grpo::rewards::RewardSet rewards({{a->reward, 1.0, params}});
    const int64_t k = cfg.train.eval_samples;
    const auto engine = grpo::policy::make_engine(policy, cfg.rollout, grpo::policy::longest_prompt(policy, {&records}), k);
    auto opts = grpo::policy::eval_options(cfg.rollout, k, static_cast<uint64_t>(cfg.run.seed));
    opts.correct_reward = a->reward;
    const auto result = grpo::policy::evaluate(*engine, policy, records, rewards, opts);
    std::cout << grpo::datasets::to_json(result.summary).dump(2) << "\n";
    if (!a->output.empty()) {
      std::ofstream out(a->output);
      if (!out) throw grpo::Error(grpo::SourceLocation{a->output, 0, 0}, "cannot write output file");
      for (const auto& s : result.samples) out << grpo::json_dump_lossy(s) << "\n";
    }
    if (!a->run_dir.empty()) {
      int64_t step = a->step;
      if (step < 0) step = grpo::RunStoreReader(a->run_dir + "/run.db").last_step().value_or(0);
      grpo::RunStoreWriter store(a->run_dir + "/run.db");
      store.log_metrics(step, result.metrics("eval"));
      store.log_event("info", "eval", "grpo eval on " + a->data + " with " + a->model, step);
      store.flush();
    }
  });
}

}  // namespace

GRPO_REGISTER_COMMAND(eval, setup_eval);
