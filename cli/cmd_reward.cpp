// `grpo reward --config FILE --input IN.jsonl --output OUT.jsonl`: scores completions offline
// with the reward set configured under `rewards:` in FILE. Each output record is the input
// record plus `rewards` (name -> value), `reward` (weighted total) and `reasons`; per-reward
// statistics are printed at the end. Records are scored in batches on the thread pool. The
// record format and the statistics are rewards/completion_records.h and rewards/scoring_stats.h;
// this file reads and writes the lines. It does not generate completions (`grpo generate`).
#include <cstdio>
#include <fstream>

#include "cli/command.h"
#include "core/error.h"
#include "core/text/json_lossy.h"
#include "datasets/json_text.h"
#include "rewards/completion_records.h"
#include "rewards/reward_config.h"
#include "rewards/reward_set.h"
#include "rewards/scoring_stats.h"

namespace {

using grpo::Error;
using grpo::SourceLocation;

struct Options {
  std::string config, input, output;
  grpo::rewards::RecordFields fields;
  size_t batch = 1024;
};

// Scores the records added so far as one batch, writes them out and folds them into the stats.
class BatchWriter {
 public:
  BatchWriter(const grpo::rewards::RewardSet& set, const Options& o, std::ofstream& out)
      : set_(set), o_(o), out_(out), stats_(set) {}

  void add(nlohmann::json record, int line) {
    samples_.push_back(grpo::rewards::sample_from_record(record, o_.fields, SourceLocation{o_.input, line, 0}));
    records_.push_back(std::move(record));
    lines_.push_back(line);
    if (samples_.size() >= o_.batch) flush();
  }

  void flush() {
    if (samples_.empty()) return;
    const auto scores = set_.score(samples_, [this](size_t i) { return o_.input + ":" + std::to_string(lines_[i]); });
    for (size_t i = 0; i < records_.size(); ++i)
      out_ << grpo::json_dump_lossy(grpo::rewards::with_scores(std::move(records_[i]), scores, i)) << "\n";
    stats_.add(scores);
    samples_.clear();
    records_.clear();
    lines_.clear();
  }

  const grpo::rewards::ScoringStats& stats() const { return stats_; }

 private:
  const grpo::rewards::RewardSet& set_;
  const Options& o_;
  std::ofstream& out_;
  std::vector<grpo::rewards::Sample> samples_;
  std::vector<nlohmann::json> records_;
  std::vector<int> lines_;
  grpo::rewards::ScoringStats stats_;
};

void print_stats(const grpo::rewards::ScoringStats& stats) {
  std::printf("%-24s %8s %10s %10s %10s %10s %8s\n", "reward", "weight", "mean", "std", "min", "max", "nonzero");
  for (const auto& s : stats.rows()) {
    const std::string weight = s.weight ? std::to_string(*s.weight).substr(0, 6) : "";
    std::printf("%-24s %8s %10.4f %10.4f %10.4f %10.4f %7.1f%%\n", s.name.c_str(), weight.c_str(), s.mean, s.stddev,
                s.min, s.max, 100.0 * s.nonzero / s.count);
  }
  std::printf("%zu records scored\n", stats.count());
}

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
    writer.add(grpo::datasets::parse_json_line(text, o.input, line), line);
  }
  writer.flush();
  out.close();
  if (!out) throw Error(SourceLocation{o.output, 0, 0}, "writing the output failed");
  print_stats(writer.stats());
}

void setup_reward(CLI::App& root) {
  auto o = std::make_shared<Options>();
  auto* cmd = root.add_subcommand("reward", "Score completions in a JSONL file with the configured reward set");
  // Required unless a subcommand (`grpo reward check`, cmd_reward_check.cpp) runs instead, so
  // they are checked in the callback rather than by CLI11.
  cmd->add_option("--config", o->config, "YAML file with a `rewards:` list of {name, weight, params} (required)");
  cmd->add_option("--input", o->input, "JSONL input: prompt, completion, answer and any extra fields (required)");
  cmd->add_option("--output", o->output, "JSONL output: the input plus rewards, reward, reasons (required)");
  cmd->add_option("--prompt-field", o->fields.prompt, "Name of the prompt field");
  cmd->add_option("--completion-field", o->fields.completion, "Name of the completion field");
  cmd->add_option("--answer-field", o->fields.answer, "Name of the reference-answer field");
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
