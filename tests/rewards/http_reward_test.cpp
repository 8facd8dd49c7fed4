// The `http` reward against a service the test runs on 127.0.0.1 (cpp-httplib's server): a
// service that scores, one that fails with 500 and then recovers (retried), one that always
// fails, a slow one (timeout), a malformed body, a partial reply, a refused connection, and
// bounded concurrency. Each failure must cost only its samples (scored on_error with a reason
// naming the problem); bad params are errors naming the param.
#include <gtest/gtest.h>
#include <httplib.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "core/error.h"
#include "rewards/reward.h"
#include "rewards/reward_set.h"

namespace {

using grpo::rewards::make_reward;
using grpo::rewards::Sample;

Sample sample(const std::string& completion, const std::string& answer = "42") {
  Sample s;
  s.prompt = "What is 6*7?";
  s.completion = completion;
  s.answer = answer;
  s.extra = {{"topic", "times"}};
  return s;
}

// Replies value 1 when completion == answer, with the request's topic as the reason.
std::string echo_replies(const std::string& body) {
  auto replies = nlohmann::json::array();
  for (const auto& r : nlohmann::json::parse(body)) {
    replies.push_back({{"id", r.at("id")},
                       {"value", r.at("completion") == r.at("answer") ? 1.0 : 0.0},
                       {"reason", "echo " + r.value("topic", std::string())}});
  }
  return replies.dump();
}

class HttpReward : public ::testing::Test {
 protected:
  void SetUp() override {
    server_.Post("/score", [this](const httplib::Request& req, httplib::Response& res) {
      const int now = ++in_flight_;
      int seen = max_in_flight_.load();
      while (now > seen && !max_in_flight_.compare_exchange_weak(seen, now)) {
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(30));
      res.set_content(echo_replies(req.body), "application/json");
      --in_flight_;
    });
    server_.Post("/flaky", [this](const httplib::Request& req, httplib::Response& res) {
      if (flaky_failures_left_-- > 0) {
        res.status = 500;
        res.set_content("overloaded", "text/plain");
        return;
      }
      res.set_content(echo_replies(req.body), "application/json");
    });
    server_.Post("/missing", [](const httplib::Request&, httplib::Response& res) {
      res.status = 404;
      res.set_content("no such route", "text/plain");
    });
    server_.Post("/slow", [](const httplib::Request& req, httplib::Response& res) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1500));
      res.set_content(echo_replies(req.body), "application/json");
    });
    server_.Post("/malformed", [](const httplib::Request&, httplib::Response& res) {
      res.set_content("this is not json", "text/plain");
    });
    server_.Post("/partial", [](const httplib::Request& req, httplib::Response& res) {
      auto replies = nlohmann::json::parse(echo_replies(req.body));
      replies.erase(replies.size() - 1);  // no reply for the last request
      replies.push_back({{"id", -5}, {"value", 1}});
      res.set_content(replies.dump(), "application/json");
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    ASSERT_GT(port_, 0);
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    while (!server_.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  void TearDown() override {
    server_.stop();
    if (thread_.joinable()) thread_.join();
  }
  std::string url(const std::string& route) const { return "http://127.0.0.1:" + std::to_string(port_) + route; }
  nlohmann::json params(const std::string& route, nlohmann::json extra = nlohmann::json::object()) const {
    nlohmann::json p = {{"url", url(route)}, {"on_error", -1.0}, {"backoff_s", 0.01}, {"timeout_s", 5}};
    p.update(extra);
    return p;
  }

  httplib::Server server_;
  std::thread thread_;
  int port_ = 0;
  std::atomic<int> in_flight_{0}, max_in_flight_{0}, flaky_failures_left_{2};
};

TEST_F(HttpReward, ScoresBatchesWithTheRecordFieldsAndBoundedConcurrency) {
  const auto reward = make_reward("http", params("/score", {{"batch", 2}, {"concurrency", 2}}));
  std::vector<Sample> samples;
  for (int i = 0; i < 12; ++i) samples.push_back(sample(i % 3 == 0 ? "41" : "42"));
  const auto results = reward->score_batch(samples);
  for (int i = 0; i < 12; ++i) {
    EXPECT_EQ(results[i].value, i % 3 == 0 ? 0.0 : 1.0) << i;
    EXPECT_EQ(results[i].reason, "echo times");
  }
  EXPECT_EQ(max_in_flight_.load(), 2);  // 6 POSTs, never more than `concurrency` at once
}

TEST_F(HttpReward, ServerErrorsAreRetriedWithBackoffThenScoredOnError) {
  const auto recovered = make_reward("http", params("/flaky", {{"retries", 2}}))->score_batch({sample("42")});
  EXPECT_EQ(recovered[0].value, 1.0) << recovered[0].reason;

  flaky_failures_left_ = 100;
  const auto gave_up = make_reward("http", params("/flaky", {{"retries", 1}}))->score_batch({sample("42")});
  EXPECT_EQ(gave_up[0].value, -1.0);
  EXPECT_NE(gave_up[0].reason.find("http error: POST " + url("/flaky") + ": HTTP 500: overloaded (2 attempts)"),
            std::string::npos)
      << gave_up[0].reason;

  // A 4xx other than 429 is the request's fault: not retried.
  const auto missing = make_reward("http", params("/missing", {{"retries", 3}}))->score_batch({sample("42")});
  EXPECT_NE(missing[0].reason.find("HTTP 404: no such route (1 attempt)"), std::string::npos) << missing[0].reason;
}

TEST_F(HttpReward, ATimeoutOrARefusedConnectionScoresOnErrorWithTheReason) {
  const auto start = std::chrono::steady_clock::now();
  const auto slow = make_reward("http", params("/slow", {{"timeout_s", 0.3}, {"retries", 0}}))->score_batch({sample("42")});
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(1400));
  EXPECT_EQ(slow[0].value, -1.0);
  EXPECT_NE(slow[0].reason.find("POST " + url("/slow") + ": "), std::string::npos) << slow[0].reason;

  const int port = port_;
  server_.stop();
  thread_.join();
  const auto refused = make_reward("http", {{"url", "http://127.0.0.1:" + std::to_string(port) + "/score"},
                                            {"retries", 2},
                                            {"backoff_s", 0.01},
                                            {"on_error", -1.0}})
                           ->score_batch({sample("42"), sample("41")});
  for (const auto& r : refused) {
    EXPECT_EQ(r.value, -1.0);
    EXPECT_NE(r.reason.find("(3 attempts)"), std::string::npos) << r.reason;
  }
}

TEST_F(HttpReward, AMalformedOrPartialReplyCostsOnlyTheSamplesItLeavesUnscored) {
  const auto malformed = make_reward("http", params("/malformed"))->score_batch({sample("42")});
  EXPECT_EQ(malformed[0].value, -1.0);
  EXPECT_NE(malformed[0].reason.find("reply is not a JSON array: this is not json"), std::string::npos)
      << malformed[0].reason;

  const auto partial = make_reward("http", params("/partial", {{"batch", 3}}))->score_batch(
      {sample("42"), sample("41"), sample("42")});
  EXPECT_EQ(partial[0].value, 1.0);
  EXPECT_EQ(partial[1].value, 0.0);
  EXPECT_EQ(partial[2].value, -1.0);
  EXPECT_NE(partial[2].reason.find("the reply has no entry for this sample's id; it also held a reply whose id "
                                   "matches no request in flight"),
            std::string::npos)
      << partial[2].reason;
}

TEST(HttpRewardParams, BadParamsAreErrorsNamingTheParam) {
  const auto error_of = [](const nlohmann::json& p) {
    try {
      make_reward("http", p);
    } catch (const grpo::Error& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  EXPECT_NE(error_of(nlohmann::json::object()).find("param 'url' is required"), std::string::npos);
  EXPECT_NE(error_of({{"url", "ftp://x/y"}}).find("must start with http:// or https://"), std::string::npos);
  EXPECT_NE(error_of({{"url", "http:///score"}}).find("has no host"), std::string::npos);
  EXPECT_NE(error_of({{"url", "http://x"}, {"concurrency", 0}}).find("'concurrency' must be in [1, 256]"),
            std::string::npos);
  EXPECT_NE(error_of({{"url", "http://x"}, {"retry", 1}}).find("unknown param 'retry'"), std::string::npos);
}

}  // namespace
