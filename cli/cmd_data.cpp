// `grpo data generate` writes a generated task split (countdown, arithmetic) as JSONL;
// `grpo data inspect` reads a dataset file through a format, reports counts and shows the
// first records, so a format or field map can be checked before a run. Thin over datasets/.
#include <iostream>
#include <map>

#include "cli/command.h"
#include "datasets/responses.h"
#include "core/config/config_io.h"
#include "core/error.h"
#include "core/strings.h"
#include "datasets/arithmetic.h"
#include "datasets/countdown.h"
#include "datasets/reader.h"

namespace {

using namespace grpo::datasets;

// "operators=*/" would be read as a YAML alias; quote that value so users need not.
std::vector<std::string> quote_operator_values(const std::vector<std::string>& entries) {
  std::vector<std::string> out;
  for (const auto& e : entries) {
    const bool bare_operators = grpo::starts_with(e, "operators=") && e.size() > 10 && e[10] != '"' && e[10] != '\'';
    out.push_back(bare_operators ? "operators=\"" + e.substr(10) + "\"" : e);
  }
  return out;
}

// Applies key=value entries (and, for arithmetic, one preset name) to `options`.
template <class Options>
void apply_difficulty(Options& options, const std::vector<std::string>& entries) {
  std::vector<std::string> overrides;
  for (const auto& e : entries) {
    if (e.find('=') != std::string::npos) overrides.push_back(e);
  }
  grpo::config::load_yaml([&options](grpo::config::Fields& f) { describe(f, options); }, "", "--difficulty",
                          quote_operator_values(overrides));
}

std::vector<Record> generate(const std::string& task, const std::vector<std::string>& difficulty, int64_t n,
                             uint64_t seed, Split split) {
  std::vector<std::string> presets;
  for (const auto& e : difficulty) {
    if (e.find('=') == std::string::npos) presets.push_back(e);
  }
  if (presets.size() > 1) throw grpo::Error("--difficulty: give at most one preset, got " + grpo::join(presets, ", "));
  if (task == "countdown") {
    if (!presets.empty()) {
      throw grpo::Error("--difficulty: countdown has no presets; use key=value (min_count, max_count, "
                        "min_number, max_number, min_target, max_target, test_fraction)");
    }
    CountdownOptions options;
    apply_difficulty(options, difficulty);
    return generate_countdown(options, n, seed, split);
  }
  ArithmeticOptions options = presets.empty() ? ArithmeticOptions{} : arithmetic_preset(presets[0]);
  apply_difficulty(options, difficulty);
  return generate_arithmetic(options, n, seed, split);
}

void print_summary(const std::string& file, const std::string& format, const ReadResult& result, int show) {
  std::map<std::string, size_t> extra_fields;
  size_t chat = 0, with_answer = 0;
  for (const auto& r : result.records) {
    chat += r.is_chat();
    with_answer += !r.answer.empty();
    for (const auto& item : r.extra.items()) ++extra_fields[item.key()];
  }
  std::cout << file << ": " << result.records.size() << " records (format " << format << "), " << result.skipped
            << " skipped\n";
  std::cout << "  prompts: " << result.records.size() - chat << " text, " << chat << " chat; answers: " << with_answer
            << "\n";
  for (const auto& [key, count] : extra_fields) std::cout << "  extra '" << key << "': " << count << "\n";
  for (const auto& s : result.first_skipped) std::cout << "  skipped line " << s.line << ": " << s.reason << "\n";
  const size_t shown = std::min<size_t>(static_cast<size_t>(std::max(show, 0)), result.records.size());
  for (size_t i = 0; i < shown; ++i) {
    const auto& r = result.records[i];
    std::cout << "--- " << r.source.file << ":" << r.source.line << "\n" << record_to_json(r).dump(2) << "\n";
  }
}

void setup_data(CLI::App& root) {
  auto* data = root.add_subcommand("data", "Generate task datasets or check a dataset file");
  data->require_subcommand(1);

  struct GenerateArgs {
    std::string task;
    int64_t n = 0;
    uint64_t seed = 0;
    std::string split = "train";
    std::string output;
    std::vector<std::string> difficulty;
    std::vector<std::string> responses;
    std::vector<double> wrong_fractions;
  };
  auto g = std::make_shared<GenerateArgs>();
  auto* gen = data->add_subcommand("generate", "Write N generated problems of one split as JSONL");
  gen->add_option("--task", g->task, "countdown or arithmetic")->required()->check(CLI::IsMember({"countdown", "arithmetic"}));
  gen->add_option("--n", g->n, "Number of records")->required();
  gen->add_option("--seed", g->seed, "Seed (default 0)");
  gen->add_option("--split", g->split, "train or test (held out; never overlaps train)")->check(CLI::IsMember({"train", "test"}));
  gen->add_option("--output", g->output, "Output JSONL file")->required();
  gen->add_option("--difficulty", g->difficulty,
                  "key=value options (e.g. max_digits=3 operators=+-*/ or max_count=4); arithmetic also takes a "
                  "preset: easy, medium, hard");
  gen->add_option("--response", g->responses,
                  "Also write extra.response for SFT from this pattern, e.g. '<answer>{answer}</answer>'; "
                  "repeat it for a teacher with several styles (one drawn per record)");
  gen->add_option("--wrong-fraction", g->wrong_fractions,
                  "With --response: share of responses given a wrong answer (a noisy teacher); one value for "
                  "all styles, or one per --response in order");
  gen->callback([g] {
    auto records = generate(g->task, g->difficulty, g->n, g->seed, split_named(g->split));
    if (!g->responses.empty()) {
      grpo::datasets::ResponseOptions ro;
      const auto& wrong = g->wrong_fractions;
      if (wrong.size() > 1 && wrong.size() != g->responses.size()) {
        throw grpo::Error("data generate: " + std::to_string(wrong.size()) + " --wrong-fraction values for " +
                          std::to_string(g->responses.size()) + " --response patterns; give one, or one per pattern");
      }
      ro.styles.clear();
      for (size_t i = 0; i < g->responses.size(); ++i) {
        ro.styles.push_back({g->responses[i], wrong.empty() ? 0.0 : wrong.size() == 1 ? wrong[0] : wrong[i]});
      }
      ro.seed = g->seed;
      grpo::datasets::add_responses(records, ro);
    }
    write_jsonl(g->output, records);
    std::cout << "wrote " << records.size() << " " << g->task << " " << g->split << " records to " << g->output
              << " (seed " << g->seed << ")\n";
  });

  struct InspectArgs {
    std::string file;
    std::string format = "prompt_answer";
    std::vector<std::string> field_map;
    bool skip_malformed = false;
    int show = 3;
  };
  auto a = std::make_shared<InspectArgs>();
  auto* inspect = data->add_subcommand("inspect", "Read a dataset file, report counts and show its first records");
  inspect->add_option("file", a->file, "JSONL or JSON array file")->required();
  inspect->add_option("--format", a->format, "gsm8k, math, math500, prompt_answer, chat or countdown");
  inspect->add_option("--field-map", a->field_map,
                      "Renamed fields, key=field (keys: id, prompt, messages, answer; numbers for countdown)");
  inspect->add_flag("--skip-malformed", a->skip_malformed, "Skip and count malformed records instead of stopping");
  inspect->add_option("--show", a->show, "How many records to print (default 3)");
  inspect->callback([a] {
    ReadOptions options;
    options.shape = with_field_map(shape_named(a->format), a->field_map);
    options.on_malformed = a->skip_malformed ? OnMalformed::kSkip : OnMalformed::kError;
    print_summary(a->file, a->format, read_dataset(a->file, options), a->show);
  });
}

}  // namespace

GRPO_REGISTER_COMMAND(data, setup_data);
