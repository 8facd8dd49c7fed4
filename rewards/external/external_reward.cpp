// The `external` reward: a reward written in any language, run as a pool of long-lived worker
// processes that speak JSON lines over stdin/stdout (the protocol is in docs/rewards.md).
// A batch of samples is cut into requests of `batch` lines, which the workers score in
// parallel. Whatever a worker does wrong (exit, hang past timeout_s, write something that is
// not a reply) costs only the samples it had in flight: they score `on_error` with a reason,
// and the worker is killed, reaped and started again for the next request. It never throws
// for a worker's behaviour; only bad params throw (at config check, naming the command).
// Workers start on first use, so checking a config starts no process. It does not retry a
// failed sample and does not sandbox the worker: the command runs with grpo's own rights.
#include <atomic>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>

#include "core/error.h"
#include "core/logging.h"
#include "core/text/json_lossy.h"
#include "core/thread_pool.h"
#include "rewards/builtin.h"
#include "rewards/external/reward_protocol.h"
#include "rewards/external/worker_process.h"
#include "rewards/reward.h"

namespace grpo::rewards {
namespace {

struct ExternalOptions {
  std::vector<std::string> argv;  // argv[0] resolved to an absolute path
  std::string label;              // names the worker in log lines
  size_t workers = 2;
  double timeout_s = 30.0;
  size_t batch = 1;
  protocol::ReplyRules reply_rules;  // value_key and on_error
};

// The command as the user wrote it, for log lines and reasons.
std::string command_label(const nlohmann::json& command) {
  std::string text;
  for (const auto& item : command) text += (text.empty() ? "" : " ") + item.get<std::string>();
  return text.size() > 100 ? text.substr(0, 100) + "..." : text;
}

std::vector<std::string> read_command(Params& p, std::string& label) {
  const auto raw = p.raw("command");
  if (!raw) throw Error("reward 'external': param 'command' is required (a list: program and its arguments)");
  if (!raw->is_array() || raw->empty()) {
    throw Error("reward 'external': param 'command' must be a non-empty list of strings, got " + raw->dump());
  }
  std::vector<std::string> argv;
  for (const auto& item : *raw) {
    if (!item.is_string()) throw Error("reward 'external': every item of 'command' must be a string, got " + item.dump());
    argv.push_back(item.get<std::string>());
  }
  label = "reward external '" + command_label(*raw) + "'";
  try {
    argv[0] = resolve_executable(argv[0]);
  } catch (const Error& e) {
    throw Error("reward 'external': " + e.message());
  }
  return argv;
}

ExternalOptions read_options(Params& p) {
  ExternalOptions o;
  o.argv = read_command(p, o.label);
  const long workers = p.get<long>("workers", 2);
  const long batch = p.get<long>("batch", 1);
  o.timeout_s = p.get<double>("timeout_s", 30.0);
  o.reply_rules.on_error = p.get<double>("on_error", 0.0);
  o.reply_rules.value_key = p.get<std::string>("value_key", "");
  o.reply_rules.error_label = "external error";
  if (workers < 1 || workers > 256) throw Error("reward 'external': 'workers' must be in [1, 256], got " + std::to_string(workers));
  if (batch < 1) throw Error("reward 'external': 'batch' must be at least 1, got " + std::to_string(batch));
  if (!(o.timeout_s > 0)) throw Error("reward 'external': 'timeout_s' must be positive, got " + protocol::format_number(o.timeout_s));
  o.workers = static_cast<size_t>(workers);
  o.batch = static_cast<size_t>(batch);
  return o;
}

// Workers free to take a request; each is used by one thread at a time.
class WorkerPool {
 public:
  explicit WorkerPool(const ExternalOptions& o) {
    for (size_t i = 0; i < o.workers; ++i) {
      workers_.push_back(std::make_unique<WorkerProcess>(o.argv, o.label));
      free_.push_back(i);
    }
  }
  ~WorkerPool() {
    for (auto& w : workers_) w->close_input();  // all at once, so their exits overlap
    for (auto& w : workers_) w->kill_and_reap(std::chrono::milliseconds(200));
  }
  WorkerProcess& acquire() {
    std::unique_lock<std::mutex> lock(mutex_);
    cv_.wait(lock, [this] { return !free_.empty(); });
    const size_t i = free_.back();
    free_.pop_back();
    return *workers_[i];
  }
  void release(WorkerProcess& w) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      for (size_t i = 0; i < workers_.size(); ++i)
        if (workers_[i].get() == &w) free_.push_back(i);
    }
    cv_.notify_one();
  }

 private:
  std::vector<std::unique_ptr<WorkerProcess>> workers_;
  std::vector<size_t> free_;
  std::mutex mutex_;
  std::condition_variable cv_;
};

class ExternalReward : public Reward {
 public:
  explicit ExternalReward(Params& p)
      : options_(read_options(p)),
        threads_(options_.workers),
        pool_(options_) {}

  bool runs_processes() const override { return true; }
  bool scores_in_batches() const override { return true; }

  RewardResult score(const Sample& sample) const override { return score_batch({sample}).front(); }

  // Requests go through threads_ so that every worker is forked by a thread that lives as long
  // as the reward (PR_SET_PDEATHSIG fires when the forking thread exits).
  std::vector<RewardResult> score_batch(const std::vector<Sample>& samples) const override {
    std::vector<RewardResult> out(samples.size());
    std::vector<std::future<void>> requests;
    for (size_t begin = 0; begin < samples.size(); begin += options_.batch) {
      const size_t end = std::min(samples.size(), begin + options_.batch);
      requests.push_back(threads_.submit([this, &samples, &out, begin, end] {
        WorkerProcess& worker = pool_.acquire();
        exchange(worker, samples, begin, end, out);
        pool_.release(worker);
      }));
    }
    for (auto& r : requests) r.get();
    return out;
  }

 private:
  using InFlight = protocol::InFlight;

  void fail_in_flight(const InFlight& in_flight, const std::string& why, std::vector<RewardResult>& out) const {
    for (const auto& [id, i] : in_flight) out[i] = protocol::failed(options_.reply_rules, why);
  }

  // Sends samples [begin, end) to `worker` and reads its replies until each has one, the
  // deadline passes, or the worker breaks the protocol.
  void exchange(WorkerProcess& worker, const std::vector<Sample>& samples, size_t begin, size_t end,
                std::vector<RewardResult>& out) const {
    InFlight in_flight;
    std::string payload;
    for (size_t i = begin; i < end; ++i) {
      const long long id = next_id_.fetch_add(1);
      in_flight[id] = i;
      payload += json_dump_lossy(protocol::request(samples[i], id)) + "\n";
    }
    if (!worker.running()) {
      try {
        worker.start();
      } catch (const Error& e) {
        logging::warn(options_.label + ": cannot start a worker: " + e.message());
        fail_in_flight(in_flight, "cannot start the worker: " + e.message(), out);
        return;
      }
    }
    const auto deadline = WorkerProcess::Clock::now() + std::chrono::duration_cast<WorkerProcess::Clock::duration>(
                                                            std::chrono::duration<double>(options_.timeout_s));
    auto io = worker.write(payload, deadline);
    std::string line;
    while (io == WorkerProcess::Io::kOk && !in_flight.empty()) {
      io = worker.read_line(line, deadline);
      if (io != WorkerProcess::Io::kOk) break;
      if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
      const auto reply = nlohmann::json::parse(line, nullptr, false);
      const std::string violation = reply.is_discarded() ? "a line that is not a JSON object"
                                                         : protocol::take_reply(reply, line, options_.reply_rules,
                                                                                in_flight, out);
      if (violation.empty()) continue;
      const std::string how = worker.kill_and_reap();
      const std::string why = "worker wrote " + violation + ": " + protocol::quote(line) + " (worker " + how + ", restarted)";
      logging::warn(options_.label + ": " + why);
      fail_in_flight(in_flight, why, out);
      return;
    }
    if (io == WorkerProcess::Io::kTimedOut) {
      const std::string how = worker.kill_and_reap();
      const std::string why = "worker timed out after " + protocol::format_number(options_.timeout_s) + " s (" + how + ", restarted)";
      logging::warn(options_.label + ": " + why);
      fail_in_flight(in_flight, why, out);
    } else if (io == WorkerProcess::Io::kClosed) {
      const std::string how = worker.kill_and_reap(std::chrono::milliseconds(100));
      const std::string why = "worker stopped before replying (its output closed; " + how + ", restarted)";
      logging::warn(options_.label + ": " + why);
      fail_in_flight(in_flight, why, out);
    }
  }

  ExternalOptions options_;
  mutable ThreadPool threads_;  // declared before pool_: workers shut down while their forking threads live
  mutable WorkerPool pool_;
  mutable std::atomic<long long> next_id_{1};
};

}  // namespace

void register_external_reward() {
  register_reward("external", [](Params& p) { return std::make_unique<ExternalReward>(p); });
}

}  // namespace grpo::rewards
