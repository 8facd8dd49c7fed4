// Reflection phrases highlighted in completions, the run's phrase list, and the sample
// browser's markup (report/samples.h).
#include <gtest/gtest.h>

#include "report/samples.h"

using grpo::report::highlight_phrases;
using grpo::report::reflection_phrases_of;

TEST(HighlightPhrases, MarksWholeWordsCaseInsensitivelyAndEscapesTheRest) {
  const std::vector<std::string> phrases = {"wait", "let me check", "re-examine"};
  EXPECT_EQ(highlight_phrases("Wait, let me check <b>: awaiting. Re-Examine & waits", phrases),
            "<mark>Wait</mark>, <mark>let me check</mark> &lt;b&gt;: awaiting. <mark>Re-Examine</mark> &amp; waits");
  EXPECT_EQ(highlight_phrases("(wait)", phrases), "(<mark>wait</mark>)");
  EXPECT_EQ(highlight_phrases("let me checkout", phrases), "let me checkout");
}

TEST(HighlightPhrases, PrefersTheLongestPhraseAtAPosition) {
  EXPECT_EQ(highlight_phrases("Let me verify it", {"let me", "let me verify"}), "<mark>Let me verify</mark> it");
}

TEST(ReflectionPhrases, ComeFromTheConfigWhenSetElseTheDefaultList) {
  EXPECT_EQ(reflection_phrases_of("metrics:\n  reflection_phrases: [hmm, \"oh no\"]\n"),
            (std::vector<std::string>{"hmm", "oh no"}));
  const std::vector<std::string> defaults = {"wait",          "let me check", "re-examine", "recheck",
                                             "let me verify", "double-check", "aha"};
  EXPECT_EQ(reflection_phrases_of(""), defaults);
  EXPECT_EQ(reflection_phrases_of("run:\n  name: x\n"), defaults);
  EXPECT_EQ(reflection_phrases_of("[not, a, map"), defaults);
}

TEST(SampleBrowser, GroupsByStepAndPromptAndMarksTruncation) {
  std::vector<grpo::SampleRecord> samples(3);
  samples[0].step = 4, samples[0].prompt = "2+2?", samples[0].completion = "wait </script> 4", samples[0].reward = 1;
  samples[0].rewards = {{"math_accuracy", 1.0}};
  samples[1].step = 4, samples[1].prompt = "2+2?", samples[1].completion = "5", samples[1].advantage = -0.5;
  samples[1].extra = {{"truncated", true}, {"length", 48}};
  samples[2].step = 9, samples[2].prompt_index = 1, samples[2].prompt = "3+3?", samples[2].completion = "6";
  const std::string html = grpo::report::render_sample_browser(samples, {"wait"});
  EXPECT_NE(html.find("<option value='4'>4</option><option value='9'>9</option>"), std::string::npos) << html;
  EXPECT_NE(html.find("<mark>wait</mark> &lt;/script&gt; 4"), std::string::npos) << html;
  EXPECT_EQ(html.find("</script>"), std::string::npos);
  EXPECT_NE(html.find("data-reward='0' data-truncated='1'"), std::string::npos) << html;
  EXPECT_NE(html.find("<span class='kv'>48 tokens</span><span class='kv truncated'>truncated</span>"), std::string::npos);
  EXPECT_NE(html.find("<span class='kv'>math_accuracy 1</span>"), std::string::npos);
  // Two prompt groups: step 4's one prompt (two completions) and step 9's.
  size_t groups = 0;
  for (size_t at = html.find("class='prompt-group'"); at != std::string::npos; at = html.find("class='prompt-group'", at + 1))
    ++groups;
  EXPECT_EQ(groups, 2u);
  EXPECT_EQ(grpo::report::render_sample_browser({}, {}), "<p class='missing'>no samples logged in this run (train.log_samples)</p>");
}
