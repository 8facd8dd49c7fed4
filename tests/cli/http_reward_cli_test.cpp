// The `http` reward as a user drives it through the `grpo` binary, against a service the test
// runs on 127.0.0.1: `grpo reward` scoring a JSONL file, `grpo reward check --cases` validating
// the service on labeled cases, and `grpo rl` training two steps on its values.
#include <gtest/gtest.h>
#include <httplib.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "core/filesystem.h"
#include "core/run_store.h"
#include "tests/cli/cli_files.h"
#include "tests/cli/tiny_policy.h"
#include "tests/common/run_command.h"

namespace fs = std::filesystem;
using grpo::testing::read_jsonl;
using grpo::testing::run_command;

namespace {

const std::string kGrpo = GRPO_BIN;

// Replies 1 when the completion equals the answer, plus 0.25 when the request carries the
// record's own `level` field, with the reason "exact".
class HttpRewardCli : public ::testing::Test {
 protected:
  void SetUp() override {
    server_.Post("/score", [](const httplib::Request& req, httplib::Response& res) {
      auto replies = nlohmann::json::array();
      for (const auto& r : nlohmann::json::parse(req.body)) {
        const double value = (r.at("completion") == r.at("answer") ? 1.0 : 0.0) + (r.value("level", "") == "easy" ? 0.25 : 0.0);
        replies.push_back({{"id", r.at("id")}, {"value", value}, {"reason", "exact"}});
      }
      res.set_content(replies.dump(), "application/json");
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    ASSERT_GT(port_, 0);
    listener_ = std::thread([this] { server_.listen_after_bind(); });
    while (!server_.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  void TearDown() override {
    server_.stop();
    listener_.join();
  }
  std::string rewards_yaml() const {
    return "rewards:\n  - name: http\n    params: {url: 'http://127.0.0.1:" + std::to_string(port_) +
           "/score', batch: 2}\n";
  }

  httplib::Server server_;
  std::thread listener_;
  int port_ = 0;
};

}  // namespace

TEST_F(HttpRewardCli, RewardCommandAndTheHarnessScoreThroughAService) {
  const fs::path root = grpo::testing::cli_scratch("http", "reward");
  {
    std::ofstream out(root / "cases.jsonl");
    for (const char* completion : {"42", "41", "42"})
      out << nlohmann::json{{"prompt", "6*7?"}, {"completion", completion}, {"answer", "42"}, {"expected", true}}.dump()
          << "\n";
  }
  std::ofstream(root / "http.yaml") << rewards_yaml();
  const auto scored = run_command(kGrpo + " reward --config " + (root / "http.yaml").string() + " --input " +
                                  (root / "cases.jsonl").string() + " --output " + (root / "scored.jsonl").string());
  ASSERT_EQ(scored.exit_code, 0) << scored.output;
  const auto records = read_jsonl(root / "scored.jsonl");
  ASSERT_EQ(records.size(), 3u);
  EXPECT_EQ(records[1].at("reward").get<double>(), 0.0);
  EXPECT_EQ(records[2].at("reasons").at("http").get<std::string>(), "exact");

  const auto check = run_command(kGrpo + " reward check --config " + (root / "http.yaml").string() + " --cases " +
                                 (root / "cases.jsonl").string() + " --min-agreement 0.5");
  EXPECT_EQ(check.exit_code, 0) << check.output;
  EXPECT_NE(check.output.find("agreement of http of " + (root / "http.yaml").string() + " with 'expected': 0.6667"),
            std::string::npos)
      << check.output;
  grpo::remove_tree(root);
}

TEST_F(HttpRewardCli, RlTrainsOnTheServicesValues) {
  const fs::path root = grpo::testing::cli_scratch("http", "rl");
  {
    std::ofstream out(root / "train.jsonl");
    for (int i = 0; i < 8; ++i)
      out << nlohmann::json{{"prompt", "What is " + std::to_string(i) + " + 1?"}, {"answer", "never"}, {"level", "easy"}}
                 .dump()
          << "\n";
  }
  grpo::testing::make_tiny_policy(root / "policy", {"What is 3 + 1?", "<answer>4</answer>"});
  std::ofstream(root / "rl.yaml") << "run:\n  seed: 5\n  device: cpu\n  threads: 1\n  log_level: warn\n"
                                     "policy:\n  path: " + (root / "policy").string() + "\n  template: raw\n"
                                     "data:\n  train:\n    path: " + (root / "train.jsonl").string() + "\n"
                                     "rollout:\n  max_new_tokens: 4\n  max_batch_sequences: 8\n" +
                                         rewards_yaml() +
                                         "rl:\n  group_size: 4\n  batch_size: 8\n  micro_batch_size: 8\n"
                                         "train:\n  steps: 2\n  save_every: 0\n  log_samples: 2\n";
  const auto rl = run_command(kGrpo + " rl " + (root / "rl.yaml").string() + " --run-dir " + (root / "run").string());
  ASSERT_EQ(rl.exit_code, 0) << rl.output;
  grpo::RunStoreReader reader((root / "run" / "run.db").string());
  const auto series = reader.metric_series("reward/http/mean");
  ASSERT_EQ(series.size(), 2u);  // no completion is "never": every value is the 0.25 for `level`
  for (const auto& point : series) EXPECT_EQ(point.value, 0.25) << "step " << point.step;
  grpo::remove_tree(root);
}
