// Request encoding and reply matching for the external and http rewards; see reward_protocol.h.
#include "rewards/external/reward_protocol.h"

#include <cstdio>

namespace grpo::rewards::protocol {

nlohmann::json request(const Sample& s, long long id) {
  nlohmann::json r = s.extra.is_object() ? s.extra : nlohmann::json::object();
  r["id"] = id;
  r["prompt"] = s.prompt;
  r["completion"] = s.completion;
  r["answer"] = s.answer;
  r["truncated"] = s.truncated;
  if (s.completion_tokens) r["completion_tokens"] = *s.completion_tokens;
  return r;
}

std::string quote(const std::string& text) {
  constexpr size_t kQuotedBytes = 200;
  if (text.size() <= kQuotedBytes) return text;
  return text.substr(0, kQuotedBytes) + "... (" + std::to_string(text.size()) + " bytes)";
}

std::string format_number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

RewardResult failed(const ReplyRules& rules, const std::string& why) {
  return {rules.on_error, rules.error_label + ": " + why};
}

std::string take_reply(const nlohmann::json& reply, const std::string& raw, const ReplyRules& rules,
                       InFlight& in_flight, std::vector<RewardResult>& out) {
  if (!reply.is_object()) return "a reply that is not a JSON object";
  const auto id = reply.find("id");
  if (id == reply.end() || !id->is_number_integer()) return "a reply without an integer 'id'";
  const auto it = in_flight.find(id->get<long long>());
  if (it == in_flight.end()) return "a reply whose id matches no request in flight";
  const size_t i = it->second;
  in_flight.erase(it);
  const auto values = reply.find("values");
  const bool has_values = values != reply.end() && values->is_object();
  const nlohmann::json* value = nullptr;
  if (rules.value_key.empty()) {
    if (const auto v = reply.find("value"); v != reply.end()) value = &*v;
  } else if (has_values && values->contains(rules.value_key)) {
    value = &values->at(rules.value_key);
  }
  const std::string wanted = rules.value_key.empty() ? "'value'" : "'values." + rules.value_key + "'";
  if (!value || !value->is_number()) {
    out[i] = failed(rules, "reply has no numeric " + wanted + ": " + quote(raw));
    return "";
  }
  std::string reason;
  if (const auto r = reply.find("reason"); r != reply.end()) reason = r->is_string() ? r->get<std::string>() : r->dump();
  if (has_values) {
    std::string named;
    for (const auto& [name, v] : values->items()) named += (named.empty() ? "" : " ") + name + "=" + v.dump();
    reason += (reason.empty() ? "" : "; ") + std::string("values: ") + named;
  }
  out[i] = {value->get<double>(), reason};
  return "";
}

}  // namespace grpo::rewards::protocol
