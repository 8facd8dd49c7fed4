// The JSON protocol that rewards living outside grpo (the `external` worker processes and the
// `http` service) speak, documented in docs/rewards.md: a request object per sample (the
// record's other fields, then `id`, `prompt`, `completion`, `answer`, `truncated`,
// `completion_tokens`), and a reply object per sample (`id`, then `value` or `values` and an
// optional `reason`). Only the encoding and the matching of replies to requests live here; how
// the objects travel (pipes, HTTP) and what happens to a broken transport belong to each reward.
#pragma once

#include <nlohmann/json.hpp>

#include <map>
#include <string>
#include <vector>

#include "rewards/reward.h"

namespace grpo::rewards::protocol {

// The request object for `sample` under the id `id`.
nlohmann::json request(const Sample& sample, long long id);

// `text` cut to 200 bytes with its length noted, for quoting a peer's output in a reason.
std::string quote(const std::string& text);
std::string format_number(double value);

struct ReplyRules {
  std::string value_key;    // "" = the reply's `value`; else the reply's `values[value_key]`
  double on_error = 0.0;    // the value of a sample whose reply is unusable
  std::string error_label;  // reasons of unusable replies start with it, e.g. "external error"
};

using InFlight = std::map<long long, size_t>;  // request id -> sample index

// A sample that could not be scored: rules.on_error with "<error_label>: <why>".
RewardResult failed(const ReplyRules& rules, const std::string& why);

// Fills out[i] for the sample that `reply` answers and removes it from `in_flight`. Returns ""
// for a reply in step with the requests (one without a usable value scores on_error), else what
// is wrong with a reply that matches no request, after which the peer's state is unknown.
// `raw` is the reply's text, quoted in reasons.
std::string take_reply(const nlohmann::json& reply, const std::string& raw, const ReplyRules& rules,
                       InFlight& in_flight, std::vector<RewardResult>& out);

}  // namespace grpo::rewards::protocol
