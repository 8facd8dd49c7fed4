// Registration hooks of the built-in rewards, one per source file, called once by
// register_builtin_rewards(). Internal to rewards/; users go through reward.h.
#pragma once

namespace grpo::rewards {

void register_math_rewards();     // math_accuracy
void register_format_rewards();   // format, tag_count
void register_countdown_reward(); // countdown
void register_code_reward();      // code
void register_text_rewards();     // language_consistency, repetition_penalty
void register_length_rewards();   // soft_overlong, cosine_length
void register_external_reward();  // external
void register_http_reward();      // http (when built with cpp-httplib)

}  // namespace grpo::rewards
