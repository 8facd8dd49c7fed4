// Any bytes, anywhere (issue 22): random token ids from every fixture tokenizer are decoded,
// and the text is also cut at a random byte, the way math_accuracy's reasons quote the first
// 40 bytes of an answer (the cut that ended a real run with type_error.316). Both go through
// every writer of model text: the JSONL records that generate, eval and distill write and
// datasets::write_jsonl, the run store (write, read back, render the report), an old run
// database holding raw bytes, `grpo reward`'s output records and the `grpo runs` listing.
// Nothing may throw, everything written is valid UTF-8 with U+FFFD where the input was not,
// and ids written beside the text come back exactly.
#include <gtest/gtest.h>

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <random>
#include <sstream>

#include "core/filesystem.h"
#include "core/run_store.h"
#include "core/sqlite.h"
#include "core/text/json_lossy.h"
#include "core/text/utf8.h"
#include "datasets/reader.h"
#include "datasets/record.h"
#include "model/tokenizer/tokenizer.h"
#include "report/report.h"
#include "tests/common/fixtures.h"
#include "tests/common/run_command.h"

namespace fs = std::filesystem;

namespace {

constexpr int kDrawsPerTokenizer = 300;

// One decoded id sequence, and a prefix of it cut at a random byte.
struct Drawn {
  std::string tokenizer;
  std::vector<int> ids;
  std::string text, cut;
};

// The fixture tokenizers, and the tokenizer of every fixture model that ships one.
std::vector<fs::path> tokenizer_dirs() {
  auto dirs = grpo::testing::fixture_dirs("tokenizers");
  for (const auto& model : grpo::testing::fixture_dirs("models"))
    if (fs::exists(model / "tokenizer.json")) dirs.push_back(model);
  return dirs;
}

std::vector<Drawn> draw_texts() {
  std::vector<Drawn> out;
  uint64_t seed = 22;
  for (const auto& dir : tokenizer_dirs()) {
    const auto tok = grpo::Tokenizer::from_file(dir.string());
    std::mt19937_64 rng(seed++);
    for (int i = 0; i < kDrawsPerTokenizer; ++i) {
      Drawn d;
      d.tokenizer = dir.filename().string();
      d.ids.resize(1 + rng() % 24);
      for (auto& id : d.ids) id = static_cast<int>(rng() % tok.vocab_size());
      d.text = tok.decode(d.ids, /*skip_special_tokens=*/i % 2 == 0);
      d.cut = d.text.substr(0, rng() % (d.text.size() + 1)) + "...";
      out.push_back(std::move(d));
    }
  }
  return out;
}

const std::vector<Drawn>& drawn() {
  static const std::vector<Drawn> texts = draw_texts();
  return texts;
}

// How many cut texts are not UTF-8: the tests below only mean something when some are not.
size_t invalid_cuts() {
  size_t n = 0;
  for (const auto& d : drawn()) n += !grpo::is_valid_utf8(d.cut);
  return n;
}

fs::path scratch(const std::string& name) {
  // grpo…_<pid>: removed at exit by tests/common/scratch_cleanup.cpp.
  const auto dir = fs::temp_directory_path() / ("grpo_text_" + name + "_" + std::to_string(::getpid()));
  grpo::remove_tree(dir);
  fs::create_directories(dir);
  return dir;
}

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

class TextPaths : public ::testing::Test {
 protected:
  void SetUp() override {
    GRPO_REQUIRE_FIXTURES("tokenizers");
    ASSERT_GT(invalid_cuts(), drawn().size() / 20) << "too few cut texts are invalid UTF-8 to test anything";
  }
};

TEST_F(TextPaths, JsonlRecordsAreValidUtf8AndKeepIdsExact) {
  for (const auto& d : drawn()) {
    // The shapes generate, eval and distill write: text fields, ids beside them, reasons.
    nlohmann::ordered_json record;
    record["completion"] = d.cut;
    record["completion_ids"] = d.ids;
    record["prompt"] = d.text;
    record["reasons"] = {{"math_accuracy", "wrong: '" + d.cut + "'"}};
    record["distill"] = {{"completion_ids", d.ids}};
    std::string line;
    ASSERT_NO_THROW(line = grpo::json_dump_lossy(record)) << d.tokenizer;
    ASSERT_TRUE(grpo::is_valid_utf8(line)) << d.tokenizer;
    const auto back = nlohmann::json::parse(line);
    EXPECT_EQ(back["completion"].get<std::string>(), grpo::to_valid_utf8(d.cut));
    EXPECT_EQ(back["prompt"].get<std::string>(), grpo::to_valid_utf8(d.text));
    EXPECT_EQ(back["completion_ids"].get<std::vector<int>>(), d.ids);
    EXPECT_EQ(back["distill"]["completion_ids"].get<std::vector<int>>(), d.ids);
  }
}

TEST_F(TextPaths, DatasetJsonlWrittenFromModelTextReadsBack) {
  const auto path = scratch("dataset") / "records.jsonl";
  std::vector<grpo::datasets::Record> records;
  for (const auto& d : drawn()) {
    grpo::datasets::Record r;
    r.id = std::to_string(records.size());
    r.prompt = d.cut;
    r.answer = "= " + d.text;  // never blank: a decode of only special tokens is empty
    records.push_back(std::move(r));
  }
  ASSERT_NO_THROW(grpo::datasets::write_jsonl(path.string(), records));
  EXPECT_TRUE(grpo::is_valid_utf8(read_file(path)));
  const auto back = grpo::datasets::read_dataset(path.string(), {}).records;
  ASSERT_EQ(back.size(), records.size());
  for (size_t i = 0; i < back.size(); ++i) {
    EXPECT_EQ(back[i].prompt, grpo::to_valid_utf8(records[i].prompt));
    EXPECT_EQ(back[i].answer, grpo::to_valid_utf8(records[i].answer));
  }
}

TEST_F(TextPaths, RunStoreReportAndRunsListingSurviveAnyText) {
  const auto dir = scratch("store");
  const std::string db = (dir / "run.db").string();
  const auto& texts = drawn();
  {
    grpo::RunStoreWriter w(db);
    w.set_meta("run_name", texts.front().cut);
    w.set_meta("status", texts.front().cut);  // cut to the table's status column, by characters
    w.log_metrics(1, {{"reward/total_mean", 0.5}});
    std::vector<grpo::SampleRecord> samples;
    for (size_t i = 0; i < texts.size(); ++i) {
      grpo::SampleRecord s;
      s.step = 1;
      s.sample_index = static_cast<int64_t>(i);
      s.prompt = texts[i].text;
      s.completion = texts[i].cut;
      s.rewards = {{"math_accuracy", 0.0}};
      s.extra = {{"reasons", {{"math_accuracy", "wrong: '" + texts[i].cut + "'"}}}, {"completion_ids", texts[i].ids}};
      samples.push_back(std::move(s));
    }
    ASSERT_NO_THROW(w.log_samples(samples));
    for (size_t i = 0; i < texts.size(); i += 37) w.log_event("warn", "sample", texts[i].cut, 1);
    ASSERT_NO_THROW(w.flush());
  }
  grpo::RunStoreReader r(db);
  EXPECT_EQ(r.meta("run_name").value(), grpo::to_valid_utf8(texts.front().cut));
  const auto back = r.samples(1, 1, static_cast<int64_t>(texts.size()));
  ASSERT_EQ(back.size(), texts.size());
  for (const auto& s : back) {
    const auto& d = texts[static_cast<size_t>(s.sample_index)];
    EXPECT_EQ(s.prompt, grpo::to_valid_utf8(d.text));
    EXPECT_EQ(s.completion, grpo::to_valid_utf8(d.cut));
    EXPECT_EQ(s.extra["completion_ids"].get<std::vector<int>>(), d.ids);
    EXPECT_TRUE(grpo::is_valid_utf8(s.extra["reasons"]["math_accuracy"].get<std::string>()));
  }
  for (const auto& e : r.events(1000)) EXPECT_TRUE(grpo::is_valid_utf8(e.message));

  grpo::report::ReportOptions options;
  options.max_samples = static_cast<int>(texts.size());
  std::string html;
  ASSERT_NO_THROW(html = grpo::report::render_report(db, options));
  EXPECT_TRUE(grpo::is_valid_utf8(html));

  const auto listing = grpo::testing::run_command(std::string(GRPO_BIN) + " runs " + dir.string());
  EXPECT_EQ(listing.exit_code, 0) << listing.output;
  EXPECT_TRUE(grpo::is_valid_utf8(listing.output)) << listing.output;
  EXPECT_EQ(std::count(listing.output.begin(), listing.output.end(), '\n'), 2) << "the header and the run: " << listing.output;
}

// A database from before text was made valid on the way in holds the raw bytes SQLite was
// given in its text columns; reading, reporting and listing it must still work.
TEST_F(TextPaths, OldDatabaseWithRawBytesStaysReadable) {
  const auto dir = scratch("old_store");
  const std::string db = (dir / "run.db").string();
  { grpo::RunStoreWriter create(db); }
  const auto& texts = drawn();
  {
    grpo::sqlite::Connection conn(db, /*read_only=*/false);
    auto put = conn.prepare(
        "INSERT INTO samples (step, prompt_index, sample_index, prompt, completion, rewards, reward, advantage, extra) "
        "VALUES (1, 0, ?, ?, ?, '{}', 0, 0, '{}')");
    auto event = conn.prepare("INSERT INTO events (wall_time, step, level, kind, message) VALUES (0, 1, 'warn', 'x', ?)");
    conn.exec("BEGIN");
    for (size_t i = 0; i < texts.size(); ++i)
      put.bind(1, static_cast<int64_t>(i)).bind(2, texts[i].cut).bind(3, texts[i].cut).run();
    event.bind(1, texts.back().cut).run();
    conn.exec("INSERT INTO metrics (step, name, value, wall_time) VALUES (1, 'loss', 1.0, 0)");
    conn.exec("COMMIT");
  }
  grpo::RunStoreReader r(db);
  const auto back = r.samples(1, 1, static_cast<int64_t>(texts.size()));
  ASSERT_EQ(back.size(), texts.size());
  for (const auto& s : back) EXPECT_EQ(s.completion, grpo::to_valid_utf8(texts[static_cast<size_t>(s.sample_index)].cut));
  ASSERT_EQ(r.events(10).size(), 1u);
  EXPECT_EQ(r.events(10)[0].message, grpo::to_valid_utf8(texts.back().cut));
  grpo::report::ReportOptions options;
  options.max_samples = static_cast<int>(texts.size());
  EXPECT_TRUE(grpo::is_valid_utf8(grpo::report::render_report(db, options)));
}

// `grpo reward` on decoded completions: math_accuracy quotes the first 40 bytes of the answer
// it found and of the reference, which can cut a multi-byte character; the records must come
// out valid, with the ids they came in with.
TEST_F(TextPaths, RewardScorerRecordsStayValidWhenReasonsCutCharacters) {
  const auto dir = scratch("reward");
  std::ofstream(dir / "rewards.yaml") << "rewards: [{name: math_accuracy, weight: 1.0}]\n";
  size_t lines = 0;
  {
    std::ofstream in(dir / "in.jsonl", std::ios::binary);
    for (const auto& d : drawn()) {
      const nlohmann::json record = {{"prompt", d.text},
                                     {"completion", "<answer>" + d.cut + "</answer>"},
                                     {"answer", "\xE2\x82\xAC 12 " + d.text},
                                     {"completion_ids", d.ids}};
      in << grpo::json_dump_lossy(record) << "\n";
      ++lines;
    }
  }
  const auto result = grpo::testing::run_command(std::string(GRPO_BIN) + " reward --config " +
                                                 (dir / "rewards.yaml").string() + " --input " +
                                                 (dir / "in.jsonl").string() + " --output " + (dir / "out.jsonl").string());
  ASSERT_EQ(result.exit_code, 0) << result.output;
  std::ifstream out(dir / "out.jsonl", std::ios::binary);
  std::string line;
  size_t read = 0, cut_reasons = 0;
  for (; std::getline(out, line); ++read) {
    ASSERT_TRUE(grpo::is_valid_utf8(line));
    const auto record = nlohmann::json::parse(line);
    EXPECT_EQ(record["completion_ids"].get<std::vector<int>>(), drawn()[read].ids);
    const auto reason = record["reasons"]["math_accuracy"].get<std::string>();
    cut_reasons += reason.find("\xEF\xBF\xBD...'") != std::string::npos;
  }
  EXPECT_EQ(read, lines);
  // Informative: how often math_accuracy's 40-byte quote ended inside a character (replaced).
  std::cout << "[text paths] " << cut_reasons << " of " << read << " reasons quote a cut character\n";
}

}  // namespace
