// `grpo eval --model DIR --data FILE --reward NAME [--k K]`: pass@1 (mean over k samples),
// unbiased pass@k, maj@k and mean length on a dataset; per-sample JSONL with --output; the
// results go into a run's store with --run-dir.
#include <fstream>
#include <iostream>

#include "cli/command.h"
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
  std::string model, data, format = "prompt_answer", reward, output, run_dir, template_name = "r1_zero", device = "auto";
  std::vector<std::string> field_map, stop;
  std::string reward_params = "{}";
  int64_t k = 1, max_new_tokens = 256, limit = 0, slots = 64, threads = 0, step = -1;
  double temperature = -1, top_p = 1.0;
  uint64_t seed = 0;
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
  cmd->add_option("--k", a->k, "Samples per prompt");
  cmd->add_option("--temperature", a->temperature, "Sampling temperature (default: 0 for k=1, else 1)");
  cmd->add_option("--top-p", a->top_p, "Nucleus mass");
  cmd->add_option("--max-new-tokens", a->max_new_tokens, "Completion length cap");
  cmd->add_option("--stop", a->stop, "Stop strings (repeatable)");
  cmd->add_option("--template", a->template_name, "Prompt template (r1_zero, chatml, llama3, deepseek, raw)");
  cmd->add_option("--limit", a->limit, "Evaluate at most this many records (0 = all)");
  cmd->add_option("--output", a->output, "Per-sample JSONL output");
  cmd->add_option("--run-dir", a->run_dir, "Store the results in this run's run.db");
  cmd->add_option("--step", a->step, "Step to record the results at in --run-dir (default: the run's last step)");
  cmd->add_option("--seed", a->seed, "Sampling seed");
  cmd->add_option("--device", a->device, "auto, cpu, cuda");
  cmd->add_option("--slots", a->slots, "Sequences decoded at once");
  cmd->add_option("--threads", a->threads, "CPU threads (0 = all)");
  cmd->callback([a] {
    grpo::set_cpu_threads(static_cast<int>(a->threads));
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
    load.device = grpo::parse_device(a->device);
    auto policy = grpo::policy::load_policy_bundle(load);
    nlohmann::json params;
    try {
      params = nlohmann::json::parse(a->reward_params);
    } catch (const nlohmann::json::exception& e) {
      throw grpo::Error("--reward-params is not valid JSON: " + std::string(e.what()));
    }
    grpo::rewards::RewardSet rewards({{a->reward, 1.0, params}});
    grpo::rollout::RolloutSettings rs;
    rs.max_batch_sequences = a->slots;
    rs.max_new_tokens = a->max_new_tokens;
    const auto engine = grpo::policy::make_engine(policy, rs, grpo::policy::longest_prompt(policy, {&records}), a->k);
    grpo::policy::EvalOptions opts;
    opts.k = a->k;
    opts.temperature = a->temperature >= 0 ? a->temperature : (a->k > 1 ? 1.0 : 0.0);
    opts.top_p = a->top_p;
    opts.max_new_tokens = a->max_new_tokens;
    opts.stop_strings = a->stop;
    opts.correct_reward = a->reward;
    opts.seed = a->seed;
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
