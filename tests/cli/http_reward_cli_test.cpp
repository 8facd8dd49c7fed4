// The `http` reward as a user drives it through the `grpo` binary: `grpo reward` scoring a
// JSONL file against a service the test runs on 127.0.0.1, and `grpo reward check --cases`
// validating that service on labeled cases.
#include <gtest/gtest.h>
#include <httplib.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "core/filesystem.h"
#include "tests/cli/cli_files.h"
#include "tests/common/run_command.h"

namespace fs = std::filesystem;
using grpo::testing::read_jsonl;
using grpo::testing::run_command;

namespace {

const std::string kGrpo = GRPO_BIN;

}  // namespace

TEST(HttpRewardCli, RewardCommandAndTheHarnessScoreThroughAService) {
  httplib::Server server;
  server.Post("/score", [](const httplib::Request& req, httplib::Response& res) {
    auto replies = nlohmann::json::array();
    for (const auto& r : nlohmann::json::parse(req.body))
      replies.push_back({{"id", r.at("id")}, {"value", r.at("completion") == r.at("answer") ? 1 : 0}, {"reason", "exact"}});
    res.set_content(replies.dump(), "application/json");
  });
  const int port = server.bind_to_any_port("127.0.0.1");
  ASSERT_GT(port, 0);
  std::thread listener([&] { server.listen_after_bind(); });
  while (!server.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));

  const fs::path root = grpo::testing::cli_scratch("http", "reward");
  {
    std::ofstream out(root / "cases.jsonl");
    for (const char* completion : {"42", "41", "42"})
      out << nlohmann::json{{"prompt", "6*7?"}, {"completion", completion}, {"answer", "42"}, {"expected", true}}.dump()
          << "\n";
  }
  std::ofstream(root / "http.yaml") << "rewards:\n  - name: http\n    params: {url: 'http://127.0.0.1:" +
                                           std::to_string(port) + "/score', batch: 2}\n";
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
  server.stop();
  listener.join();
  grpo::remove_tree(root);
}
