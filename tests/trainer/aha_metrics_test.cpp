// The reflection-phrase rates (core/text/reflection_phrases.h): exact rates on crafted completions,
// whole-phrase matching at word boundaries ("awaiting" is no "wait"), ASCII case folding, bytes
// that are not UTF-8, metric names, and metrics.reflection_phrases' validation naming the item.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/error.h"
#include "rl/experiment/experiment_config.h"
#include "core/text/reflection_phrases.h"

namespace grpo::rl {
namespace {

TEST(AhaMetrics, APhraseCountsOnlyAsAWholeWordInAnyAsciiCase) {
  EXPECT_TRUE(contains_phrase("Wait, that is wrong.", "wait"));
  EXPECT_TRUE(contains_phrase("so 4. WAIT", "wait"));
  EXPECT_TRUE(contains_phrase("(wait)", "wait"));
  EXPECT_TRUE(contains_phrase("awaiting... wait", "wait"));  // the second occurrence is whole
  EXPECT_FALSE(contains_phrase("awaiting the result", "wait"));
  EXPECT_FALSE(contains_phrase("it waits", "wait"));
  EXPECT_FALSE(contains_phrase("wait_for", "wait"));  // '_' is a word character
  EXPECT_FALSE(contains_phrase("2wait", "wait"));
  EXPECT_TRUE(contains_phrase("Let me check: 3 + 4 = 7", "let me check"));
  EXPECT_FALSE(contains_phrase("let me checkout", "let me check"));
  EXPECT_FALSE(contains_phrase("let me  check", "let me check"));  // two spaces: no folding
  EXPECT_TRUE(contains_phrase("I should re-examine this", "re-examine"));
  EXPECT_FALSE(contains_phrase("I should reexamine this", "re-examine"));
  EXPECT_TRUE(contains_phrase("Double-check: ok", "double-check"));
  EXPECT_FALSE(contains_phrase("double-checked", "double-check"));
  EXPECT_FALSE(contains_phrase("", "wait"));
  EXPECT_FALSE(contains_phrase("wait", ""));
}

TEST(AhaMetrics, BytesThatAreNotUtf8AreMatchedByteByByte) {
  const std::string broken = std::string("\xff\xfe") + "wait" + "\xc3";  // stray bytes, a cut character
  EXPECT_TRUE(contains_phrase(broken, "wait"));
  EXPECT_FALSE(contains_phrase(std::string("\x80\x81\x82", 3), "wait"));
  const std::string nul_inside("wa\0it", 5);
  EXPECT_FALSE(contains_phrase(nul_inside, "wait"));
  // A phrase that is not ASCII: no folding, no boundaries of its own.
  EXPECT_TRUE(contains_phrase("\xe7\xad\x89\xe7\xad\x89, 2+2=4", "\xe7\xad\x89\xe7\xad\x89"));
  const auto m = reflection_metrics({broken, std::string("\xc3\x28\xa0\xa1")}, {"wait"});
  EXPECT_DOUBLE_EQ(m.at("aha/wait_rate"), 0.5);
}

TEST(AhaMetrics, RatesAreSharesOfCompletionsNotCountsOfOccurrences) {
  const std::vector<std::string> texts = {
      "Wait, wait. Wait. That's an aha moment I can flag here.",  // wait (3 times), aha
      "Let me verify: 12 * 3 = 36. Let me check again.",           // let me verify, let me check
      "awaiting the answer: 7",                                     // nothing
      "I will recheck and re-examine.",                             // recheck, re-examine
  };
  const auto m = reflection_metrics(texts, default_reflection_phrases());
  EXPECT_DOUBLE_EQ(m.at("aha/wait_rate"), 0.25);
  EXPECT_DOUBLE_EQ(m.at("aha/aha_rate"), 0.25);
  EXPECT_DOUBLE_EQ(m.at("aha/let_me_verify_rate"), 0.25);
  EXPECT_DOUBLE_EQ(m.at("aha/let_me_check_rate"), 0.25);
  EXPECT_DOUBLE_EQ(m.at("aha/recheck_rate"), 0.25);
  EXPECT_DOUBLE_EQ(m.at("aha/re_examine_rate"), 0.25);
  EXPECT_DOUBLE_EQ(m.at("aha/double_check_rate"), 0.0);
  EXPECT_DOUBLE_EQ(m.at("aha/any_rate"), 0.75);
  EXPECT_EQ(m.size(), 8u);  // seven phrases and any
  EXPECT_TRUE(reflection_metrics(texts, {}).empty());
}

TEST(AhaMetrics, MetricNamesFoldCaseAndJoinWordsWithUnderscores) {
  EXPECT_EQ(reflection_metric_name("wait"), "aha/wait_rate");
  EXPECT_EQ(reflection_metric_name("Let me check"), "aha/let_me_check_rate");
  EXPECT_EQ(reflection_metric_name("re-examine"), "aha/re_examine_rate");
  EXPECT_EQ(reflection_metric_name("  hmm...  wait?! "), "aha/hmm_wait_rate");
}

TEST(AhaMetrics, PhraseListProblemsNameTheKeyAndIndex) {
  EXPECT_EQ(reflection_phrase_problems(default_reflection_phrases(), "metrics.reflection_phrases"),
            std::vector<std::string>{});
  EXPECT_EQ(reflection_phrase_problems({"wait", "", "...", "Re examine", "re-examine", "any"}, "k"),
            (std::vector<std::string>{"'k[1]' must not be empty", "'k[2]' (\"...\") must contain a letter or digit",
                                      "'k[4]' (\"re-examine\") would be logged as aha/re_examine_rate, like item 3",
                                      "'k[5]' (\"any\") would be logged as aha/any_rate, like the any-phrase rate"}));
}

TEST(AhaMetrics, TheExperimentConfigRefusesAnEmptyPhrase) {
  try {
    load_experiment_config("", {"metrics.reflection_phrases=[wait, '']"});
    FAIL() << "an empty phrase must be refused";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("'metrics.reflection_phrases[1]' must not be empty"), std::string::npos)
        << e.what();
  }
  const auto config = load_experiment_config("", {});
  EXPECT_EQ(config.metrics.reflection_phrases, default_reflection_phrases());
}

}  // namespace
}  // namespace grpo::rl
