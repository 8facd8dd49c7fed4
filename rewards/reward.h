// The reward interface of grpo.cpp: a reward scores one Sample (prompt, completion, reference
// answer, the record's other fields) and returns a value plus a short reason that is stored
// with the sample. Rewards are looked up by name in one registry and built from a JSON object
// of parameters; Params rejects unknown keys by name. This header knows nothing about
// batching, weights or threads (see reward_set.h) and never touches LibTorch.
#pragma once

#include <nlohmann/json.hpp>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace grpo::rewards {

struct Sample {
  std::string prompt;
  std::string completion;
  std::string answer;                        // the reference answer; may be empty
  nlohmann::json extra = nlohmann::json::object();  // the record's other fields: numbers, target, tests, ...
  std::optional<long> completion_tokens;     // when the caller knows it (length rewards need it)
  bool truncated = false;                    // generation stopped at the length cap
};

struct RewardResult {
  double value = 0.0;
  std::string reason;  // short, human-readable: why this value
};

class Reward {
 public:
  virtual ~Reward() = default;
  // Must be safe to call from several threads at once.
  virtual RewardResult score(const Sample& sample) const = 0;
  // Rewards that run child processes say so, so a RewardSet can size its concurrency.
  virtual bool runs_processes() const { return false; }
  // Scores several samples, result i for sample i. A reward that spreads a batch over worker
  // processes of its own (external) overrides it and says so with scores_in_batches(), and a
  // RewardSet then hands it whole batches; the default scores one sample after another.
  virtual std::vector<RewardResult> score_batch(const std::vector<Sample>& samples) const;
  virtual bool scores_in_batches() const { return false; }
};

// Typed access to a reward's parameter object. Every key must be read through get()/has()
// before finish(); finish() throws grpo::Error naming any unknown key and the valid ones.
class Params {
 public:
  Params(std::string reward_name, const nlohmann::json& params);
  template <class T>
  T get(const std::string& key, const T& fallback) {
    known_.push_back(key);
    if (!json_.contains(key)) return fallback;
    try {
      return json_.at(key).get<T>();
    } catch (const nlohmann::json::exception&) {
      throw_type_error(key);
    }
  }
  std::optional<nlohmann::json> raw(const std::string& key);
  void finish() const;

 private:
  [[noreturn]] void throw_type_error(const std::string& key) const;
  std::string name_;
  nlohmann::json json_;
  std::vector<std::string> known_;
};

// Whether `value` fully satisfies its reward: 1 up to rounding. Accuracy metrics, pass@k and
// the hacking audit count a completion as correct (or well formatted) by this one test.
inline bool reward_satisfied(double value) { return value >= 1.0 - 1e-9; }

using RewardFactory = std::function<std::unique_ptr<Reward>(Params& params)>;

// The table is a core/registry.h Registry: registering a name twice throws grpo::Error, and
// registration belongs to start-up (the table is not locked against concurrent lookups).
void register_reward(const std::string& name, RewardFactory factory);
// Throws grpo::Error listing the registered names when `name` is unknown, and for bad params.
std::unique_ptr<Reward> make_reward(const std::string& name, const nlohmann::json& params);
std::vector<std::string> reward_names();  // sorted

// Registers the built-in rewards once; called by make_reward/reward_names, so a static
// library never loses them to the linker.
void register_builtin_rewards();

}  // namespace grpo::rewards
