// The `http` reward: a reward served over HTTP by a team's own service. Samples go out as POSTs
// of JSON arrays of request objects (the protocol of reward_protocol.h, `batch` samples a POST,
// at most `concurrency` POSTs in flight); the reply is a JSON array of reply objects in any
// order. A refused or reset connection, a timeout, HTTP 429 or 5xx is retried `retries` times
// with exponential backoff; then, like any other failure (another status, a body that is not a
// JSON array, a missing reply), the samples concerned score `on_error` with the reason. It
// never throws for the service's behaviour; only bad params throw, at config check. The client
// is cpp-httplib (https:// when it was built with OpenSSL, as Debian's is).
#include <httplib.h>

#include <chrono>
#include <thread>

#include "core/error.h"
#include "core/logging.h"
#include "core/text/json_lossy.h"
#include "core/thread_pool.h"
#include "rewards/builtin.h"
#include "rewards/external/reward_protocol.h"
#include "rewards/reward.h"

namespace grpo::rewards {
namespace {

struct HttpOptions {
  std::string url, origin, path;  // origin = scheme://host[:port]; path starts with '/'
  size_t batch = 16, concurrency = 4;
  double timeout_s = 30.0, backoff_s = 0.5;
  int retries = 3;
  httplib::Headers headers;
  protocol::ReplyRules reply_rules;
};

[[noreturn]] void bad_param(const std::string& what) { throw Error("reward 'http': " + what); }

void split_url(HttpOptions& o) {
  const auto scheme_end = o.url.find("://");
  const std::string scheme = scheme_end == std::string::npos ? "" : o.url.substr(0, scheme_end);
  if (scheme != "http" && scheme != "https")
    bad_param("param 'url' must start with http:// or https://, got '" + protocol::quote(o.url) + "'");
  const auto path_start = o.url.find('/', scheme_end + 3);
  o.origin = o.url.substr(0, path_start);
  o.path = path_start == std::string::npos ? "/" : o.url.substr(path_start);
  if (o.origin.size() == scheme_end + 3) bad_param("param 'url' has no host: '" + protocol::quote(o.url) + "'");
}

HttpOptions read_options(Params& p) {
  HttpOptions o;
  o.url = p.get<std::string>("url", "");
  if (o.url.empty()) bad_param("param 'url' is required (e.g. http://127.0.0.1:8000/score)");
  split_url(o);
  const long batch = p.get<long>("batch", 16), concurrency = p.get<long>("concurrency", 4);
  const long retries = p.get<long>("retries", 3);
  o.timeout_s = p.get<double>("timeout_s", 30.0);
  o.backoff_s = p.get<double>("backoff_s", 0.5);
  o.reply_rules.on_error = p.get<double>("on_error", 0.0);
  o.reply_rules.value_key = p.get<std::string>("value_key", "");
  o.reply_rules.error_label = "http error";
  for (const auto& [name, value] : p.get<std::map<std::string, std::string>>("headers", {})) o.headers.emplace(name, value);
  if (batch < 1) bad_param("'batch' must be at least 1, got " + std::to_string(batch));
  if (concurrency < 1 || concurrency > 256) bad_param("'concurrency' must be in [1, 256], got " + std::to_string(concurrency));
  if (retries < 0 || retries > 20) bad_param("'retries' must be in [0, 20], got " + std::to_string(retries));
  if (!(o.timeout_s > 0)) bad_param("'timeout_s' must be positive, got " + protocol::format_number(o.timeout_s));
  if (!(o.backoff_s >= 0)) bad_param("'backoff_s' must be >= 0, got " + protocol::format_number(o.backoff_s));
  o.batch = static_cast<size_t>(batch);
  o.concurrency = static_cast<size_t>(concurrency);
  o.retries = static_cast<int>(retries);
  return o;
}

// What one POST came back with: a body to read, or why there is none and whether to try again.
struct Attempt {
  std::string body, failure;
  bool retry = false;
};

class HttpReward : public Reward {
 public:
  explicit HttpReward(Params& p) : options_(read_options(p)), threads_(options_.concurrency) {}

  // Waiting on a service is not CPU work: keep it off the shared pool like process rewards.
  bool runs_processes() const override { return true; }
  bool scores_in_batches() const override { return true; }

  RewardResult score(const Sample& sample) const override { return score_batch({sample}).front(); }

  std::vector<RewardResult> score_batch(const std::vector<Sample>& samples) const override {
    std::vector<RewardResult> out(samples.size());
    std::vector<std::future<void>> posts;
    for (size_t begin = 0; begin < samples.size(); begin += options_.batch) {
      const size_t end = std::min(samples.size(), begin + options_.batch);
      posts.push_back(threads_.submit([this, &samples, &out, begin, end] { post(samples, begin, end, out); }));
    }
    for (auto& p : posts) p.get();
    return out;
  }

 private:
  Attempt attempt(const std::string& body) const {
    httplib::Client client(options_.origin);
    const auto seconds = static_cast<time_t>(options_.timeout_s);
    const auto micros = static_cast<time_t>((options_.timeout_s - static_cast<double>(seconds)) * 1e6);
    client.set_connection_timeout(seconds, micros);
    client.set_read_timeout(seconds, micros);
    client.set_write_timeout(seconds, micros);
    const auto result = client.Post(options_.path, options_.headers, body, "application/json");
    Attempt a;
    if (!result) {
      a.failure = "POST " + options_.url + ": " + httplib::to_string(result.error());
      a.retry = true;
      return a;
    }
    const int status = result->status;
    if (status != 200) {
      a.failure = "POST " + options_.url + ": HTTP " + std::to_string(status) + ": " + protocol::quote(result->body);
      a.retry = status == 429 || status >= 500;
      return a;
    }
    a.body = result->body;
    return a;
  }

  void post(const std::vector<Sample>& samples, size_t begin, size_t end, std::vector<RewardResult>& out) const {
    protocol::InFlight in_flight;
    nlohmann::json requests = nlohmann::json::array();
    for (size_t i = begin; i < end; ++i) {
      const long long id = next_id_.fetch_add(1);
      in_flight[id] = i;
      requests.push_back(protocol::request(samples[i], id));
    }
    const std::string body = json_dump_lossy(requests);
    Attempt a;
    for (int k = 0;; ++k) {
      a = attempt(body);
      if (a.failure.empty() || !a.retry || k == options_.retries) break;
      std::this_thread::sleep_for(std::chrono::duration<double>(options_.backoff_s * static_cast<double>(1 << k)));
    }
    if (!a.failure.empty()) {
      const int attempts = a.retry ? options_.retries + 1 : 1;
      fail(in_flight, a.failure + " (" + std::to_string(attempts) + (attempts == 1 ? " attempt)" : " attempts)"), out);
      return;
    }
    const auto replies = nlohmann::json::parse(a.body, nullptr, false);
    if (replies.is_discarded() || !replies.is_array()) {
      fail(in_flight, "reply is not a JSON array: " + protocol::quote(a.body), out);
      return;
    }
    std::string violations;
    for (const auto& reply : replies) {
      const std::string raw = reply.dump();
      const std::string violation = protocol::take_reply(reply, raw, options_.reply_rules, in_flight, out);
      if (!violation.empty() && violations.empty()) violations = "; it also held " + violation + ": " + protocol::quote(raw);
    }
    if (!in_flight.empty()) fail(in_flight, "the reply has no entry for this sample's id" + violations, out);
  }

  void fail(const protocol::InFlight& in_flight, const std::string& why, std::vector<RewardResult>& out) const {
    logging::warn("reward http '" + options_.url + "': " + why);
    for (const auto& [id, i] : in_flight) out[i] = protocol::failed(options_.reply_rules, why);
  }

  HttpOptions options_;
  mutable ThreadPool threads_;
  mutable std::atomic<long long> next_id_{1};
};

}  // namespace

void register_http_reward() {
  register_reward("http", [](Params& p) { return std::make_unique<HttpReward>(p); });
}

}  // namespace grpo::rewards
