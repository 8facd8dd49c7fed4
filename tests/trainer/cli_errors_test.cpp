// Bad training data given to the `grpo` binary: a malformed line, a missing field (one the
// reader needs, and the response SFT needs) and an empty dataset each end the run with exit
// status 1 and exactly one line naming the file (and line, and column for JSON syntax); so does
// a float16 run on the CPU, naming run.dtype.
#include <gtest/gtest.h>

#include <fstream>

#include "tests/common/run_command.h"
#include "tests/trainer/tiny_world.h"

namespace fs = std::filesystem;
using grpo::testing::run_command;

namespace {

class BadData : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = grpo::testing::fresh_dir(std::string("bad-data-") +
                                    ::testing::UnitTest::GetInstance()->current_test_info()->name());
    grpo::testing::write_tiny_config(dir_);
  }
  std::string write(const std::string& name, const std::string& text) {
    std::ofstream(dir_ / name) << text;
    return (dir_ / name).string();
  }
  // Runs `grpo STAGE` on `data` as data.train; returns the command's result.
  grpo::testing::CommandResult run_stage(const std::string& stage, const std::string& data) {
    const auto config = write("config.yaml", "run: {log_level: error, device: cpu, threads: 1}\n"
                                             "policy: {template: raw}\n"
                                             "data: {train: {path: " + data + "}}\n"
                                             "sft: {init_config: " + (dir_ / "config.json").string() +
                                             ", epochs: 1}\n"
                                             "distill: {teacher: " + (dir_ / "no-teacher").string() + "}\n");
    return run_command(std::string(GRPO_BIN) + " " + stage + " " + config + " --run-dir " + (dir_ / ("run-" + stage)).string());
  }
  fs::path dir_;
};

}  // namespace

TEST_F(BadData, MalformedLineIsAnErrorAtFileLineAndColumn) {
  const auto data = write("train.jsonl", R"({"prompt": "a", "answer": "1", "response": "r"})" "\n"
                                         R"({"prompt": "x" "answer": "y"})" "\n");
  const auto r = run_stage("sft", data);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.output, "error: " + data +
                          ":2:23: malformed JSON: syntax error while parsing object - unexpected string literal; "
                          "expected '}'\n");
}

TEST_F(BadData, MissingPromptFieldIsAnErrorAtFileAndLine) {
  const auto data = write("train.jsonl", R"({"prompt": "a", "answer": "1", "response": "r"})" "\n\n"
                                         R"({"answer": "2", "response": "s"})" "\n");
  const auto r = run_stage("sft", data);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.output, "error: " + data + ":3: missing field 'prompt' (the prompt_answer shape reads the prompt from it)\n");
}

TEST_F(BadData, MissingResponseFieldIsAnErrorAtFileAndLine) {
  const auto data = write("train.jsonl", R"({"prompt": "a", "answer": "1", "response": "r"})" "\n"
                                         R"({"prompt": "b", "answer": "2"})" "\n");
  const auto r = run_stage("sft", data);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.output, "error: " + data + ":2: record has no string field 'response' (sft.response_field)\n");
}

TEST_F(BadData, EmptyDatasetIsAnErrorNamingTheFile) {
  const auto data = write("train.jsonl", "\n  \n");
  for (const char* stage : {"sft", "distill"}) {
    const auto r = run_stage(stage, data);
    EXPECT_EQ(r.exit_code, 1) << stage;
    EXPECT_EQ(r.output, "error: " + data + ": empty dataset: no records\n") << stage;
  }
}

// float16 is a GPU dtype (LibTorch's CPU lacks its matmuls): asked for on the CPU, the run stops
// before anything is trained, naming the key.
TEST_F(BadData, Float16OnTheCpuIsAnErrorNamingTheKey) {
  const auto data = write("train.jsonl", "{\"prompt\": \"1 + 1 =\", \"response\": \" 2\"}\n");
  const auto config = write("config.yaml", "run: {log_level: error, device: cpu, threads: 1, dtype: float16}\n"
                                           "policy: {template: raw}\n"
                                           "data: {train: {path: " + data + "}}\n"
                                           "sft: {init_config: " + (dir_ / "config.json").string() + ", epochs: 1}\n");
  const auto r = run_command(std::string(GRPO_BIN) + " sft " + config + " --run-dir " + (dir_ / "run-fp16").string());
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.output, "error: run.dtype: float16 needs a CUDA device (run.device is cpu); use float32 or bfloat16 on the CPU\n");
}
