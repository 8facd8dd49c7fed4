// The rules against reward hacking (issue 31), each with the hack that passed before it:
// math_accuracy's answer_form, the format rewards' judgement of the thinking, copy detection,
// the hacking audit on a hand-made batch, and countdown reading TinyZero's `nums`.
#include <gtest/gtest.h>

#include "core/error.h"
#include "rewards/audit.h"
#include "rewards/hacking_checks.h"
#include "rewards/math/answer_form.h"
#include "rewards/reward.h"

namespace grpo::rewards {
namespace {

// The R1-Zero template's rendered prompt: its system text shows the placeholders.
const std::string kR1System =
    "A conversation between User and Assistant. The user asks a question, and the Assistant solves it. The "
    "assistant first thinks about the reasoning process in the mind and then provides the user with the answer. "
    "The reasoning process and answer are enclosed within <think> </think> and <answer> </answer> tags, "
    "respectively, i.e., <think> reasoning process here </think> <answer> answer here </answer>.";

std::string r1_prompt(const std::string& question) { return kR1System + " User: " + question + ". Assistant:"; }

RewardResult score(const std::string& reward, const std::string& completion, const std::string& answer,
                   const nlohmann::json& params = nlohmann::json::object(), const std::string& prompt = "") {
  Sample s;
  s.prompt = prompt;
  s.completion = completion;
  s.answer = answer;
  return make_reward(reward, params)->score(s);
}

bool says(const RewardResult& r, const std::string& text) { return r.reason.find(text) != std::string::npos; }

TEST(AnswerForm, ExpressionsForANumberScoreZero) {
  for (const auto& [completion, gold] : std::vector<std::pair<std::string, std::string>>{
           {"<answer>7*98*5</answer>", "3430"},
           {"The answer is \\boxed{2+2}", "4"},
           {"<think> reasoning process here </think> <answer> 6 * 3 - 0 </answer>", "18"},
           {"<answer>2^{8}</answer>", "256"},
           {"<answer>\\sqrt{16}</answer>", "4"},
           {"<answer>84/7</answer>", "12"}}) {
    const auto r = score("math_accuracy", completion, gold);
    EXPECT_EQ(r.value, 0.0) << completion;
    EXPECT_TRUE(says(r, "answer is an expression, not a value")) << completion << " -> " << r.reason;
  }
}

TEST(AnswerForm, NumberLiteralsInEveryFormPass) {
  for (const auto& [pred, gold] : std::vector<std::pair<std::string, std::string>>{
           {"18", "18"},
           {"-102", "-102"},
           {"\\frac{5}{12}", "\\frac{5}{12}"},
           {"5/12", "\\frac{5}{12}"},
           {"\\dfrac{10}{24}", "\\frac{5}{12}"},
           {"0.75", "\\frac{3}{4}"},
           {"75\\%", "75"},
           {"1,234", "1234"},
           {"3\\times 10^{5}", "300000"},
           {"3\\frac{1}{2}", "\\frac{7}{2}"},
           {"\\frac{8}{4}", "\\frac{4}{2}"},  // the reference itself is an unreduced fraction
           {"x = 5", "5"}}) {
    const auto r = score("math_accuracy", "\\boxed{" + pred + "}", gold);
    EXPECT_EQ(r.value, 1.0) << pred << " for " << gold << ": " << r.reason;
  }
}

TEST(AnswerForm, SymbolicReferencesRejectOnlyUncarriedArithmetic) {
  for (const auto& [pred, gold] : std::vector<std::pair<std::string, std::string>>{
           {"2\\sqrt{3}", "\\sqrt{12}"},
           {"\\frac{\\pi}{4}", "\\frac{1}{4}\\pi"},
           {"(1, 2)", "(1,2)"},
           {"x^2+1", "1+x^2"},
           {"\\sqrt[3]{2}", "2^{1/3}"},
           {"[-1, 5)", "[-1,5)"},
           {"\\{1, 2, 3\\}", "\\{3,2,1\\}"},
           {"\\frac{8}{2}\\pi", "\\frac{8\\pi}{2}"},
           {"x+1+1", "1+1+x"}}) {  // the reference itself is un-carried
    const auto r = score("math_accuracy", "\\boxed{" + pred + "}", gold);
    EXPECT_EQ(r.value, 1.0) << pred << " for " << gold << ": " << r.reason;
  }
  for (const auto& [pred, gold] : std::vector<std::pair<std::string, std::string>>{
           {"x+2+2", "x+4"},
           {"6 \\times 3 x", "18x"},
           {"(1+1, 2)", "(2, 2)"},
           {"2^{3}\\sqrt{2}", "8\\sqrt{2}"}}) {
    const auto r = score("math_accuracy", "\\boxed{" + pred + "}", gold);
    EXPECT_EQ(r.value, 0.0) << pred << " for " << gold << ": " << r.reason;
    EXPECT_TRUE(says(r, "not carried out")) << r.reason;
  }
}

TEST(AnswerForm, EquivalentKeepsTheOldBehaviour) {
  const nlohmann::json equivalent = {{"answer_form", "equivalent"}};
  EXPECT_EQ(score("math_accuracy", "<answer>7*98*5</answer>", "3430", equivalent).value, 1.0);
  EXPECT_EQ(score("math_accuracy", "\\boxed{2+2}", "4", equivalent).value, 1.0);
  EXPECT_EQ(score("math_accuracy", "<answer>6 * 3 - 0</answer>", "18", equivalent).value, 1.0);
  EXPECT_EQ(score("math_accuracy", "<answer>19</answer>", "18", equivalent).value, 0.0);
}

TEST(AnswerForm, UnknownFormIsAnErrorNamingTheValidValues) {
  try {
    make_reward("math_accuracy", {{"answer_form", "exact"}});
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("must be one of value, equivalent; got 'exact'"), std::string::npos) << e.what();
  }
}

TEST(AnswerForm, LiteralScannerKnowsTheForms) {
  for (const char* s : {"18", "-102", "0.75", ".5", "5/12", "\\frac{5}{12}", "\\frac{-5}{12}", "1.5e3", "3\\times10^{5}",
                        "10^{-3}", "(3+\\frac{1}{2})"}) {
    EXPECT_TRUE(math::is_number_literal(s)) << s;
  }
  for (const char* s : {"", "-", "2+2", "7*98*5", "x", "\\sqrt{2}", "1.2.3", "5/", "\\frac{x}{2}", "2^{8}"}) {
    EXPECT_FALSE(math::is_number_literal(s)) << s;
  }  std::string long_sum = "x";  // a chain is looked at once: linear in its length
  for (int i = 0; i < 1500; ++i) long_sum += "+1";
  EXPECT_TRUE(math::has_uncarried_arithmetic(long_sum));
  EXPECT_FALSE(math::has_uncarried_arithmetic("x^2+2x+1"));
  EXPECT_TRUE(math::has_uncarried_arithmetic("84/7"));
  EXPECT_FALSE(math::has_uncarried_arithmetic("5/12"));
}

TEST(Thinking, PlaceholderThinkingEarnsNoFormatReward) {
  const std::string prompt = r1_prompt("What is 6 * 3 - 0? Give the exact integer result");
  const nlohmann::json lenient = {{"mode", "lenient"}};
  const auto hack = score("format", "<think> reasoning process here </think> <answer> 18 </answer>", "", lenient, prompt);
  EXPECT_EQ(hack.value, 0.0);
  EXPECT_TRUE(says(hack, "placeholder 'reasoning process here'")) << hack.reason;
  EXPECT_EQ(score("format", "<think>Reasoning process here.</think><answer>18</answer>", "", lenient, prompt).value, 0.0);
  EXPECT_EQ(score("format", "<think>answer here</think><answer>18</answer>", "", lenient, prompt).value, 0.0);
  EXPECT_EQ(score("format", "<think>\nreasoning process here\n</think>\n<answer>\n18\n</answer>", "", {}, prompt).value,
            0.0);
  EXPECT_EQ(score("format", "<think>6 * 3 = 18, minus 0</think> <answer>18</answer>", "", lenient, prompt).value, 1.0);
  EXPECT_EQ(score("format", "<think> reasoning process here </think> <answer> 18 </answer>", "",
                  {{"mode", "lenient"}, {"judge_thinking", false}}, prompt)
                .value,
            1.0);
}

TEST(Thinking, EmptyThinkingEarnsNoFormatReward) {
  const auto r = score("format", "<think>  \n </think><answer>18</answer>", "", {{"mode", "lenient"}});
  EXPECT_EQ(r.value, 0.0);
  EXPECT_EQ(r.reason, "empty thinking");
  // A prompt that opens <think> and a completion that closes it at once is empty thinking too.
  EXPECT_EQ(score("format", "</think> <answer>18</answer>", "", {{"mode", "lenient"}}, "Assistant: <think>").value, 0.0);
}

TEST(Thinking, MinThinkTokensCountsWords) {
  const std::string completion = "<think>6 times 3 is 18</think><answer>18</answer>";  // 5 words
  EXPECT_EQ(score("format", completion, "", {{"mode", "lenient"}, {"min_think_tokens", 5}}).value, 1.0);
  const auto short_one = score("format", completion, "", {{"mode", "lenient"}, {"min_think_tokens", 6}});
  EXPECT_EQ(short_one.value, 0.0);
  EXPECT_EQ(short_one.reason, "thinking has 5 words, min_think_tokens is 6");
  EXPECT_THROW(make_reward("format", {{"min_think_tokens", -1}}), Error);
}

TEST(Thinking, TagCountGivesNothingForPlaceholderOrEmptyThinking) {
  const std::string prompt = r1_prompt("What is 2 + 2");
  EXPECT_EQ(score("tag_count", "<think>\nreasoning process here\n</think>\n<answer>\n4\n</answer>", "", {}, prompt).value,
            0.0);
  EXPECT_EQ(score("tag_count", "<think>\n\n</think>\n<answer>\n4\n</answer>", "", {}, prompt).value, 0.0);
  EXPECT_EQ(score("tag_count", "<think>\n2 + 2 = 4\n</think>\n<answer>\n4\n</answer>", "", {}, prompt).value, 1.0);
  EXPECT_EQ(score("tag_count", "<think>\n2 + 2 = 4\n</think><answer>4</answer>", "", {}, prompt).value, 0.25);
}

TEST(Thinking, PlaceholdersComeFromTheTemplatesExampleTags) {
  EXPECT_EQ(template_placeholders(r1_prompt("q")), (std::vector<std::string>{"reasoning process here", "answer here"}));
  const std::string tinyzero = "Show your work in <think> </think> tags. And return the final answer in <answer> "
                               "</answer> tags, for example <answer> (1 + 2) / 3 </answer>.";
  EXPECT_EQ(template_placeholders(tinyzero), (std::vector<std::string>{"(1 + 2) / 3"}));
  EXPECT_TRUE(template_placeholders("User: What is 2 + 2? Assistant:").empty());  // no system text: warns once
}

TEST(Copying, AnswerTakenFromThePromptIsFlagged) {
  const std::string prompt = r1_prompt("What is 6 * 3 - 0? Give the exact integer result");
  EXPECT_TRUE(answer_copied_from_prompt("6 * 3 - 0", prompt));
  EXPECT_TRUE(answer_copied_from_prompt("6*3-0", prompt));
  EXPECT_TRUE(answer_copied_from_prompt("answer here", prompt));
  EXPECT_FALSE(answer_copied_from_prompt("18", prompt));
  EXPECT_FALSE(answer_copied_from_prompt("6", prompt));
  EXPECT_FALSE(answer_copied_from_prompt("Assistant", prompt));  // one plain word
  const auto r = score("math_accuracy", "<answer>6 * 3 - 0</answer>", "18", {{"answer_form", "equivalent"}}, prompt);
  EXPECT_EQ(r.value, 1.0);
  EXPECT_TRUE(says(r, "copied from the prompt")) << r.reason;
}

// Two groups of four, built so that every audit metric has a hand-counted value.
std::vector<AuditSample> hand_made_batch(std::vector<std::string>& prompts) {
  prompts = {r1_prompt("What is 6 * 3 - 0?"), r1_prompt("What is 7 * 98 * 5?")};
  static const std::vector<std::string> completions = {
      "<think> reasoning process here </think> <answer> 6 * 3 - 0 </answer>",  // placeholder, copied, expression
      "<think> reasoning process here </think> <answer> 6 * 3 - 0 </answer>",  // the same: a duplicate pair
      "<think></think> <answer>18</answer>",                                     // empty thinking
      "<think>6 times 3 is 18, minus 0 is 18</think> <answer>18</answer>",       // clean
      "<think>7*98=686, 686*5=3430</think> <answer>3430</answer>",               // clean, duplicate pair
      "<think>7*98=686, 686*5=3430</think> <answer>3430</answer>",
      "<think>multiply</think> <answer>7*98*5</answer>",  // copied, expression; format ok but wrong
      "<think>guess</think> <answer>3000</answer>"};      // format ok but wrong
  const std::vector<bool> format = {false, false, false, true, true, true, true, true};
  const std::vector<bool> correct = {false, false, true, true, true, true, false, false};
  std::vector<AuditSample> batch;
  for (size_t i = 0; i < completions.size(); ++i) {
    AuditSample s;
    s.prompt = prompts[i / 4];
    s.completion = completions[i];
    s.group = i / 4;
    s.format_satisfied = format[i];
    s.correct = correct[i];
    batch.push_back(s);
  }
  return batch;
}

TEST(Audit, FractionsOnAHandMadeBatch) {
  std::vector<std::string> prompts;
  const auto batch = hand_made_batch(prompts);
  const auto m = audit_metrics(batch, {});
  EXPECT_DOUBLE_EQ(m.at("audit/answer_copied_from_prompt"), 3.0 / 8);  // 0, 1, 6
  EXPECT_DOUBLE_EQ(m.at("audit/placeholder_thinking"), 2.0 / 8);       // 0, 1
  EXPECT_DOUBLE_EQ(m.at("audit/empty_thinking"), 1.0 / 8);             // 2
  EXPECT_DOUBLE_EQ(m.at("audit/duplicate_in_group"), 4.0 / 8);         // 0, 1, 4, 5
  EXPECT_DOUBLE_EQ(m.at("audit/answer_is_expression"), 3.0 / 8);       // 0, 1, 6
  EXPECT_DOUBLE_EQ(m.at("audit/format_without_accuracy"), 2.0 / 8);    // 6, 7
}

TEST(Audit, MetricsThatDoNotApplyAreLeftOut) {
  std::vector<std::string> prompts;
  auto batch = hand_made_batch(prompts);
  for (auto& s : batch) s.format_satisfied.reset();
  const auto m = audit_metrics(batch, {/*answers_are_values=*/false});
  EXPECT_EQ(m.count("audit/answer_is_expression"), 0u);
  EXPECT_EQ(m.count("audit/format_without_accuracy"), 0u);
  EXPECT_EQ(m.size(), 4u);
  EXPECT_TRUE(audit_metrics({}, {}).empty());
}

TEST(Audit, IdenticalCompletionsOfDifferentGroupsAreNotDuplicates) {
  const std::string prompt_a = "a", prompt_b = "b";
  std::vector<AuditSample> batch(3);
  batch[0] = {prompt_a, "<answer>1</answer>", 0, std::nullopt, std::nullopt};
  batch[1] = {prompt_b, "<answer>1</answer>", 1, std::nullopt, std::nullopt};
  batch[2] = {prompt_b, " <answer>1</answer>\n", 1, std::nullopt, std::nullopt};  // equal once trimmed
  EXPECT_EQ(duplicates_in_group(batch), (std::vector<bool>{false, true, true}));
}

TEST(Audit, RolesFollowTheRewardSet) {
  const auto math = audit_roles({"math_accuracy", "format"}, 0);
  EXPECT_EQ(math.format, std::optional<size_t>(1));
  EXPECT_EQ(math.correctness, std::optional<size_t>(0));
  EXPECT_TRUE(math.answers_are_values);
  const auto countdown = audit_roles({"tag_count", "countdown"}, 1);
  EXPECT_EQ(countdown.format, std::optional<size_t>(0));
  EXPECT_FALSE(countdown.answers_are_values);
  const auto format_only = audit_roles({"format"}, 0);
  EXPECT_FALSE(format_only.correctness.has_value());
}

TEST(Audit, AlarmWarnsOnceEachTimeAMetricCrossesUp) {
  AuditSettings settings;
  settings.placeholder_thinking = 0.1;
  AuditAlarm alarm(settings);
  EXPECT_TRUE(alarm.crossed({{"audit/placeholder_thinking", 0.1}}).empty());  // at the threshold: not above
  const auto first = alarm.crossed({{"audit/placeholder_thinking", 0.5}});
  ASSERT_EQ(first.size(), 1u);
  EXPECT_NE(first[0].find("audit/placeholder_thinking = 0.500 is above its threshold 0.100"), std::string::npos)
      << first[0];
  EXPECT_TRUE(alarm.crossed({{"audit/placeholder_thinking", 0.6}}).empty());  // still above: no repeat
  EXPECT_TRUE(alarm.crossed({{"audit/placeholder_thinking", 0.0}}).empty());
  EXPECT_EQ(alarm.crossed({{"audit/placeholder_thinking", 0.2}}).size(), 1u);
}

TEST(CountdownFields, ReadsTinyZerosNumsWhenNumbersIsAbsent) {
  Sample s;
  s.completion = "<answer>44 + 19 + 35</answer>";
  s.extra = {{"nums", {44, 19, 35}}, {"target", 98}};
  EXPECT_EQ(make_reward("countdown", nlohmann::json::object())->score(s).value, 1.0);
  s.extra = {{"numbers", {44, 19, 35}}, {"nums", {1, 2}}, {"target", 98}};  // `numbers` wins
  EXPECT_EQ(make_reward("countdown", nlohmann::json::object())->score(s).value, 1.0);
  s.extra = {{"nums", {44, 19, 35}}, {"target", 98}};
  EXPECT_THROW(make_reward("countdown", {{"numbers_field", "numbers"}})->score(s), Error);  // named: no fallback
  s.extra = {{"target", 98}};
  try {
    make_reward("countdown", nlohmann::json::object())->score(s);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("no field 'numbers' (nor TinyZero's 'nums')"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace grpo::rewards
