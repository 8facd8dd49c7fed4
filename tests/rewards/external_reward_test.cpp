// The `external` reward against a real Python worker (tests/rewards/data/echo_worker.py), whose
// request's completion selects how it misbehaves: crash, hang, malformed output, closed
// stdout, a stderr flood, slowness. Each failure must cost only the samples in flight (scored
// on_error with a reason) and leave the reward working. Also the shipped math-verify worker,
// when the math_verify package is installed.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "core/error.h"
#include "rewards/reward.h"
#include "rewards/reward_set.h"

namespace {

using grpo::Error;
using grpo::rewards::make_reward;
using grpo::rewards::RewardSet;
using grpo::rewards::Sample;
using Clock = std::chrono::steady_clock;

const std::string kEchoWorker = std::string(GRPO_SOURCE_DIR) + "/tests/rewards/data/echo_worker.py";

nlohmann::json echo_params(nlohmann::json extra = nlohmann::json::object()) {
  nlohmann::json p = {{"command", {"python3", kEchoWorker}}, {"workers", 1}, {"on_error", -1.0}};
  p.update(extra);
  return p;
}

Sample sample(const std::string& completion, const std::string& answer = "42") {
  Sample s;
  s.prompt = "What is 6*7?";
  s.completion = completion;
  s.answer = answer;
  return s;
}

std::string error_of(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const Error& e) {
    return e.message();
  }
  return "";
}

double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

TEST(ExternalReward, ScoresWithTheWorkersValueAndReasonAndSendsTheRecordsFields) {
  const auto reward = make_reward("external", echo_params());
  auto right = sample("42");
  right.extra = {{"topic", "arithmetic"}};
  const auto results = reward->score_batch({right, sample("41")});
  ASSERT_EQ(results.size(), 2u);
  EXPECT_EQ(results[0].value, 1.0);
  EXPECT_EQ(results[0].reason, "echo arithmetic");
  EXPECT_EQ(results[1].value, 0.0);
  EXPECT_EQ(results[1].reason, "echo");
}

TEST(ExternalReward, CrashedWorkerScoresOnErrorAndIsRestarted) {
  const auto reward = make_reward("external", echo_params());
  const auto crashed = reward->score(sample("crash"));
  EXPECT_EQ(crashed.value, -1.0);
  EXPECT_NE(crashed.reason.find("exited with status 3"), std::string::npos) << crashed.reason;
  EXPECT_NE(crashed.reason.find("restarted"), std::string::npos) << crashed.reason;
  EXPECT_EQ(reward->score(sample("42")).value, 1.0);
}

TEST(ExternalReward, HungWorkerIsKilledAtTheTimeoutAndRestarted) {
  // 1.5 s, not less: the restarted worker's Python start-up counts against the same timeout,
  // and on a loaded 2-core machine it took over 0.5 s.
  const auto reward = make_reward("external", echo_params({{"timeout_s", 1.5}}));
  const auto start = Clock::now();
  const auto hung = reward->score(sample("hang"));
  EXPECT_LT(seconds_since(start), 10.0);
  EXPECT_EQ(hung.value, -1.0);
  EXPECT_NE(hung.reason.find("timed out after 1.5 s"), std::string::npos) << hung.reason;
  EXPECT_NE(hung.reason.find("killed by signal 9"), std::string::npos) << hung.reason;
  EXPECT_EQ(reward->score(sample("42")).value, 1.0);
}

TEST(ExternalReward, LineThatIsNotJsonIsQuotedCutAndScoresOnError) {
  const auto reward = make_reward("external", echo_params());
  const auto result = reward->score(sample("not-json"));
  EXPECT_EQ(result.value, -1.0);
  EXPECT_NE(result.reason.find("not a JSON object: this is not json xxx"), std::string::npos) << result.reason;
  EXPECT_NE(result.reason.find("... (1017 bytes)"), std::string::npos) << result.reason;
  EXPECT_LT(result.reason.size(), 400u);
  EXPECT_EQ(reward->score(sample("42")).value, 1.0);
}

TEST(ExternalReward, ReplyWithAnUnknownIdScoresOnError) {
  const auto reward = make_reward("external", echo_params());
  const auto result = reward->score(sample("wrong-id"));
  EXPECT_EQ(result.value, -1.0);
  EXPECT_NE(result.reason.find("matches no request in flight"), std::string::npos) << result.reason;
  EXPECT_EQ(reward->score(sample("42")).value, 1.0);
}

TEST(ExternalReward, ReplyWithoutAValueScoresOnErrorQuotingTheReply) {
  const auto reward = make_reward("external", echo_params());
  const auto result = reward->score(sample("no-value"));
  EXPECT_EQ(result.value, -1.0);
  EXPECT_NE(result.reason.find("no numeric 'value'"), std::string::npos) << result.reason;
  EXPECT_NE(result.reason.find("forgot the value"), std::string::npos) << result.reason;
  EXPECT_EQ(reward->score(sample("42")).value, 1.0);
}

TEST(ExternalReward, WorkerThatClosesItsOutputIsKilledWithoutWaitingForTheTimeout) {
  const auto reward = make_reward("external", echo_params({{"timeout_s", 60}}));
  const auto start = Clock::now();
  const auto result = reward->score(sample("close"));
  EXPECT_LT(seconds_since(start), 10.0);
  EXPECT_EQ(result.value, -1.0);
  EXPECT_NE(result.reason.find("output closed"), std::string::npos) << result.reason;
  EXPECT_EQ(reward->score(sample("42")).value, 1.0);
}

TEST(ExternalReward, WorkerFloodingStderrNeverBlocks) {
  const auto reward = make_reward("external", echo_params({{"timeout_s", 20}}));
  const auto result = reward->score(sample("stderr-flood", "stderr-flood"));
  EXPECT_EQ(result.value, 1.0) << result.reason;
}

TEST(ExternalReward, FailureInABatchCostsOnlyTheSamplesStillInFlight) {
  const auto reward = make_reward("external", echo_params({{"batch", 3}}));
  const auto results = reward->score_batch({sample("42"), sample("crash"), sample("42"), sample("42")});
  EXPECT_EQ(results[0].value, 1.0);  // answered before the crash
  EXPECT_EQ(results[1].value, -1.0);
  EXPECT_EQ(results[2].value, -1.0);  // same request line batch, never answered
  EXPECT_EQ(results[3].value, 1.0);   // next request, restarted worker
}

TEST(ExternalReward, ValueKeyPicksANamedValueAndTheReasonListsThemAll) {
  const auto picked = make_reward("external", echo_params({{"value_key", "style"}}))->score(sample("values"));
  EXPECT_EQ(picked.value, 0.5);
  EXPECT_EQ(picked.reason, "named; values: correct=1 style=0.5");
  const auto unpicked = make_reward("external", echo_params())->score(sample("values"));
  EXPECT_EQ(unpicked.value, -1.0);
  EXPECT_NE(unpicked.reason.find("no numeric 'value'"), std::string::npos) << unpicked.reason;
}

TEST(ExternalReward, FourWorkersScoreEightSlowSamplesInParallel) {
  const auto reward = make_reward("external", echo_params({{"workers", 4}}));
  reward->score_batch(std::vector<Sample>(4, sample("42")));  // start the four workers
  const auto start = Clock::now();
  const auto results = reward->score_batch(std::vector<Sample>(8, sample("slow:0.2", "slow:0.2")));
  const double elapsed = seconds_since(start);
  for (const auto& r : results) EXPECT_EQ(r.value, 1.0) << r.reason;
  EXPECT_LT(elapsed, 1.2) << "8 samples x 0.2 s on 4 workers should take about 0.4 s; serial is 1.6 s";
}

TEST(ExternalReward, RewardSetHandsItWholeBatchesInOrder) {
  const RewardSet set({{"external", 2.0, echo_params({{"workers", 2}, {"batch", 2}})}});
  std::vector<Sample> samples;
  for (int i = 0; i < 7; ++i) samples.push_back(sample(i % 3 == 0 ? "42" : "0"));
  const auto scores = set.score(samples);
  for (int i = 0; i < 7; ++i) EXPECT_EQ(scores.totals[i], i % 3 == 0 ? 2.0 : 0.0) << i;
  EXPECT_EQ(set.correctness_index(), 0u);
}

TEST(ExternalReward, MissingOrUnrunnableCommandFailsAtConfigCheckNamingIt) {
  EXPECT_NE(error_of([] { make_reward("external", nlohmann::json::object()); }).find("'command' is required"),
            std::string::npos);
  const auto missing = error_of([] { make_reward("external", {{"command", {"no-such-reward-worker", "--x"}}}); });
  EXPECT_NE(missing.find("command 'no-such-reward-worker' was not found on PATH"), std::string::npos) << missing;
  const auto not_executable = error_of([] { make_reward("external", {{"command", {kEchoWorker + ".missing"}}}); });
  EXPECT_NE(not_executable.find("'" + kEchoWorker + ".missing' is not an executable file"), std::string::npos)
      << not_executable;
  EXPECT_NE(error_of([] { make_reward("external", echo_params({{"workers", 0}})); }).find("'workers' must be in [1, 256]"),
            std::string::npos);
  EXPECT_NE(error_of([] { make_reward("external", echo_params({{"batchsize", 4}})); }).find("unknown param 'batchsize'"),
            std::string::npos);
}

TEST(ExternalReward, ShippedMathVerifyWorkerJudgesEquivalentAnswers) {
  if (std::system("python3 -c 'import math_verify' >/dev/null 2>&1") != 0) {
    GTEST_SKIP() << "python3 cannot import math_verify (pip install math-verify to run this test)";
  }
  const std::string worker = std::string(GRPO_SOURCE_DIR) + "/examples/rewards/math_verify_reward.py";
  const auto reward = make_reward("external", {{"command", {"python3", worker}}, {"workers", 1}, {"timeout_s", 60}});
  const auto results = reward->score_batch({sample("The answer is $\\boxed{\\frac{1}{2}}$.", "0.5"),
                                            sample("So we get \\boxed{3}.", "$4$"),
                                            sample("no answer here", "7"),
                                            // A LaTeX reference parsed bare reads as 74; as \boxed{74\%}, 0.74.
                                            sample("So we get \\boxed{0.74}.", "74\\%")});
  EXPECT_EQ(results[0].value, 1.0) << results[0].reason;
  EXPECT_EQ(results[1].value, 0.0) << results[1].reason;
  EXPECT_EQ(results[2].value, 0.0) << results[2].reason;
  EXPECT_EQ(results[3].value, 1.0) << results[3].reason;
  EXPECT_FALSE(results[1].reason.empty());
}

}  // namespace
