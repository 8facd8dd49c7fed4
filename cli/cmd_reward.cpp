// `grpo reward --config FILE --input IN.jsonl --output OUT.jsonl`: scores completions offline
// with the reward set configured under `rewards:` in FILE. Each output record is the input
// record plus `rewards` (name -> value), `reward` (weighted total) and `reasons`; per-reward
// statistics are printed at the end. Records are scored in batches on the thread pool. It does
// not generate completions (that is `grpo generate`).
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iostream>

#include "cli/command.h"
#include "core/error.h"
#include "core/text/json_lossy.h"
#include "datasets/json_text.h"
#include "rewards/reward_config.h"
#include "rewards/reward_set.h"

namespace {

using grpo::Error;
using grpo::SourceLocation;

struct Options {
  std::string config, input, output;
  std::string prompt_field = "prompt", completion_field = "completion", answer_field = "answer";
  size_t batch = 1024;
};

struct Stats {
  size_t n = 0, nonzero = 0;
  double sum = 0, sum_sq = 0, min = INFINITY, max = -INFINITY;
  void add(double v) {
    ++n;
    nonzero += v != 0.0;
    sum += v;
    sum_sq += v * v;
    min = std::min(min, v);
    max = std::max(max, v);
  }
};

std::string text_field(const nlohmann::json& record, const std::string& field, const SourceLocation& where) {
  if (!record.contains(field)) throw Error(where, "missing field '" + field + "'");
  if (!record[field].is_string()) throw Error(where, "field '" + field + "' must be a string");
  return record[field].get<std::string>();
}

grpo::rewards::Sample to_sample(const nlohmann::json& record, const Options& o, const SourceLocation& where) {
  grpo::rewards::Sample s;
  s.prompt = text_field(record, o.prompt_field, where);
  s.completion = text_field(record, o.completion_field, where);
  s.answer = text_field(record, o.answer_field, where);
  s.extra = record;
  if (record.contains("completion_tokens")) {
    if (!record["completion_tokens"].is_number_integer()) throw Error(where, "field 'completion_tokens' must be an integer");
    s.completion_tokens = record["completion_tokens"].get<long>();
  }
  if (record.contains("truncated")) s.truncated = record["truncated"].is_boolean() && record["truncated"].get<bool>();
  return s;
}

class BatchWriter {
 public:
  BatchWriter(const grpo::rewards::RewardSet& set, const Options& o, std::ofstream& out)
      : set_(set), o_(o), out_(out), stats_(set.names().size() + 1) {}

  void add(nlohmann::json record, int line) {
    const SourceLocation where{o_.input, line, 0};
    samples_.push_back(to_sample(record, o_, where));
    records_.push_back(std::move(record));
    lines_.push_back(line);
    if (samples_.size() >= o_.batch) flush();
  }

  void flush() {
    if (samples_.empty()) return;
    const auto scores = set_.score(samples_, [this](size_t i) { return o_.input + ":" + std::to_string(lines_[i]); });
    for (size_t i = 0; i < records_.size(); ++i) {
      auto& record = records_[i];
      auto rewards = nlohmann::json::object(), reasons = nlohmann::json::object();
      for (size_t r = 0; r < scores.names.size(); ++r) {
        rewards[scores.names[r]] = scores.values[i][r];
        reasons[scores.names[r]] = scores.reasons[i][r];
        stats_[r].add(scores.values[i][r]);
      }
      stats_.back().add(scores.totals[i]);
      record["rewards"] = std::move(rewards);
      record["reward"] = scores.totals[i];
      record["reasons"] = std::move(reasons);
      out_ << grpo::json_dump_lossy(record) << "\n";
    }
    samples_.clear();
    records_.clear();
    lines_.clear();
  }

  void print_stats() const {
    std::printf("%-24s %8s %10s %10s %10s %10s %8s\n", "reward", "weight", "mean", "std", "min", "max", "nonzero");
    for (size_t r = 0; r < stats_.size(); ++r) {
      const Stats& s = stats_[r];
      const bool total = r == set_.names().size();
      const std::string name = total ? "total" : set_.names()[r];
      if (s.n == 0) continue;
      const double mean = s.sum / s.n;
      const double var = std::max(0.0, s.sum_sq / s.n - mean * mean);
      std::printf("%-24s %8s %10.4f %10.4f %10.4f %10.4f %7.1f%%\n", name.c_str(),
                  total ? "" : std::to_string(set_.weights()[r]).substr(0, 6).c_str(), mean, std::sqrt(var), s.min,
                  s.max, 100.0 * s.nonzero / s.n);
    }
    std::printf("%zu records scored\n", stats_.empty() ? size_t{0} : stats_.back().n);
  }

 private:
  const grpo::rewards::RewardSet& set_;
  const Options& o_;
  std::ofstream& out_;
  std::vector<grpo::rewards::Sample> samples_;
  std::vector<nlohmann::json> records_;
  std::vector<int> lines_;
  std::vector<Stats> stats_;  // one per reward, then the total
};

void run(const Options& o) {
  const grpo::rewards::RewardSet set(grpo::rewards::load_reward_specs(o.config));
  std::ifstream in(o.input);
  if (!in) throw Error(SourceLocation{o.input, 0, 0}, "cannot open the input file");
  std::ofstream out(o.output);
  if (!out) throw Error(SourceLocation{o.output, 0, 0}, "cannot open the output file for writing");
  BatchWriter writer(set, o, out);
  std::string text;
  for (int line = 1; std::getline(in, text); ++line) {
    if (text.find_first_not_of(" \t\r") == std::string::npos) continue;
    nlohmann::json record = grpo::datasets::parse_json_line(text, o.input, line);
    if (!record.is_object()) throw Error(SourceLocation{o.input, line, 0}, "each line must be a JSON object");
    writer.add(std::move(record), line);
  }
  writer.flush();
  out.close();
  if (!out) throw Error(SourceLocation{o.output, 0, 0}, "writing the output failed");
  writer.print_stats();
}

void setup_reward(CLI::App& root) {
  auto o = std::make_shared<Options>();
  auto* cmd = root.add_subcommand("reward", "Score completions in a JSONL file with the configured reward set");
  // Required unless a subcommand (`grpo reward check`, cmd_reward_check.cpp) runs instead, so
  // they are checked in the callback rather than by CLI11.
  cmd->add_option("--config", o->config, "YAML file with a `rewards:` list of {name, weight, params} (required)");
  cmd->add_option("--input", o->input, "JSONL input: prompt, completion, answer and any extra fields (required)");
  cmd->add_option("--output", o->output, "JSONL output: the input plus rewards, reward, reasons (required)");
  cmd->add_option("--prompt-field", o->prompt_field, "Name of the prompt field");
  cmd->add_option("--completion-field", o->completion_field, "Name of the completion field");
  cmd->add_option("--answer-field", o->answer_field, "Name of the reference-answer field");
  cmd->add_option("--batch", o->batch, "Records scored together on the thread pool");
  cmd->callback([o, cmd] {
    if (!cmd->get_subcommands().empty()) return;
    for (const auto& [flag, value] : {std::pair<const char*, const std::string*>{"--config", &o->config},
                                      {"--input", &o->input}, {"--output", &o->output}}) {
      if (value->empty()) throw Error(std::string("grpo reward: ") + flag + " is required (or run `grpo reward check`)");
    }
    run(*o);
  });
}

}  // namespace

GRPO_REGISTER_COMMAND(reward, setup_reward);
