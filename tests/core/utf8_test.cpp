// to_valid_utf8 and json_dump_lossy against Python. Each expectation is what
// `bytes.decode('utf-8', errors='replace')` returned for the input (python3, printed beside the
// case as code points): one U+FFFD per maximal invalid subsequence, valid text unchanged.
#include <gtest/gtest.h>

#include <random>

#include "core/text/json_lossy.h"
#include "core/text/utf8.h"

namespace {

const std::string kR = "\xEF\xBF\xBD";  // U+FFFD

struct Case {
  const char* what;
  std::string input, python;
};

const std::vector<Case>& python_cases() {
  static const std::vector<Case> cases = {
      // b'\x80' -> [FFFD]
      {"lone continuation byte", "\x80", kR},
      // b'a\x80\xbfb' -> [a, FFFD, FFFD, b]: each stray continuation is its own subpart
      {"two stray continuations", "a\x80\xBF" "b", "a" + kR + kR + "b"},
      // b'\xc3' -> [FFFD]
      {"2-byte lead at the end", "\xC3", kR},
      // b'\xc3a' -> [FFFD, a]
      {"2-byte lead before ASCII", "\xC3" "a", kR + "a"},
      // b'\xe2\x82' -> [FFFD]: the truncated prefix is one subpart
      {"3-byte sequence cut after 2", "\xE2\x82", kR},
      // b'\xe2\x82a' -> [FFFD, a]
      {"3-byte sequence cut before ASCII", "\xE2\x82" "a", kR + "a"},
      // b'\xf0\x9f\x98' -> [FFFD]
      {"4-byte emoji cut after 3", "\xF0\x9F\x98", kR},
      // b'\xf0\x9f\x98a' -> [FFFD, a]
      {"4-byte emoji cut before ASCII", "\xF0\x9F\x98" "a", kR + "a"},
      // b'\xc0\xaf' -> [FFFD, FFFD]: C0 never starts a sequence
      {"overlong 2-byte '/'", "\xC0\xAF", kR + kR},
      // b'\xc1\xbf' -> [FFFD, FFFD]
      {"overlong 2-byte C1", "\xC1\xBF", kR + kR},
      // b'\xe0\x80\xaf' -> [FFFD, FFFD, FFFD]: E0 needs A0..BF next
      {"overlong 3-byte", "\xE0\x80\xAF", kR + kR + kR},
      // b'\xe0\x9f\xbf' -> [FFFD, FFFD, FFFD]
      {"overlong 3-byte at the boundary", "\xE0\x9F\xBF", kR + kR + kR},
      // b'\xf0\x80\x80\xaf' -> 4 x FFFD: F0 needs 90..BF next
      {"overlong 4-byte", "\xF0\x80\x80\xAF", kR + kR + kR + kR},
      // b'\xf0\x8f\xbf\xbf' -> 4 x FFFD
      {"overlong 4-byte at the boundary", "\xF0\x8F\xBF\xBF", kR + kR + kR + kR},
      // b'\xed\xa0\x80' -> 3 x FFFD: U+D800 encoded
      {"high surrogate", "\xED\xA0\x80", kR + kR + kR},
      // b'\xed\xbf\xbf' -> 3 x FFFD: U+DFFF encoded
      {"low surrogate", "\xED\xBF\xBF", kR + kR + kR},
      // b'\xf4\x90\x80\x80' -> 4 x FFFD: U+110000
      {"above U+10FFFF", "\xF4\x90\x80\x80", kR + kR + kR + kR},
      // b'\xf5\x80\x80\x80' -> 4 x FFFD
      {"F5 lead", "\xF5\x80\x80\x80", kR + kR + kR + kR},
      // b'\xf8\x88\x80\x80\x80' -> 5 x FFFD: the old 5-byte form
      {"F8 5-byte form", "\xF8\x88\x80\x80\x80", kR + kR + kR + kR + kR},
      // b'\xfe\xff' -> [FFFD, FFFD]
      {"FE FF", "\xFE\xFF", kR + kR},
      // b'\xff' -> [FFFD]
      {"FF", "\xFF", kR},
      // b'\xe2\x82\xe2\x82\xac' -> [FFFD, 20AC]: a cut character, then a whole one
      {"cut euro then euro", "\xE2\x82\xE2\x82\xAC", kR + "\xE2\x82\xAC"},
      // b'\xf0\x9f\xe2\x82\xac' -> [FFFD, 20AC]
      {"cut emoji then euro", "\xF0\x9F\xE2\x82\xAC", kR + "\xE2\x82\xAC"},
      // b'\xe2\x82\x80\x80' -> [2080, FFFD]: a whole character, then a stray continuation
      {"subscript zero then stray", "\xE2\x82\x80\x80", "\xE2\x82\x80" + kR},
      // b'x\xe4\xb8.' -> [x, FFFD, .]: the issue-22 crash (a CJK character cut before "...")
      {"CJK cut before a period", "x\xE4\xB8.", "x" + kR + "."},
  };
  return cases;
}

TEST(Utf8, InvalidSequencesGetPythonsReplacement) {
  for (const auto& c : python_cases()) {
    EXPECT_FALSE(grpo::is_valid_utf8(c.input)) << c.what;
    EXPECT_EQ(grpo::to_valid_utf8(c.input), c.python) << c.what;
    EXPECT_TRUE(grpo::is_valid_utf8(c.python)) << c.what;
  }
}

TEST(Utf8, ValidTextIsUnchanged) {
  for (const std::string& text : {std::string(), std::string("plain ASCII\n\t"), std::string("caf\xC3\xA9"),
                                 std::string("\xE2\x82\xAC 5"), std::string("\xF0\x9F\x98\x80"),
                                 std::string("\xEF\xBF\xBD already replaced"), std::string("nul \0 inside", 12),
                                 std::string("\xF4\x8F\xBF\xBF"), std::string("\xED\x9F\xBF"),
                                 std::string("\xEE\x80\x80")}) {
    EXPECT_TRUE(grpo::is_valid_utf8(text)) << text;
    EXPECT_EQ(grpo::to_valid_utf8(text), text);
  }
}

TEST(Utf8, JsonDumpLossyReplacesExactlyAsToValidUtf8) {
  for (const auto& c : python_cases()) {
    EXPECT_EQ(grpo::json_dump_lossy(nlohmann::json(c.input)), nlohmann::json(c.python).dump()) << c.what;
    nlohmann::ordered_json keyed;
    keyed[c.input] = c.input;  // keys are text too
    EXPECT_EQ(grpo::json_dump_lossy(keyed), "{" + nlohmann::json(c.python).dump() + ":" + nlohmann::json(c.python).dump() + "}")
        << c.what;
  }
}

TEST(Utf8, JsonDumpLossyParsesBackToTheReplacedText) {
  const nlohmann::json record = {{"completion", "x\xE4\xB8..."}, {"ids", {1, 2, 3}}, {"reward", 0.5}};
  const auto text = grpo::json_dump_lossy(record, 2);
  EXPECT_TRUE(grpo::is_valid_utf8(text));
  const auto back = nlohmann::json::parse(text);
  EXPECT_EQ(back["completion"].get<std::string>(), "x" + kR + "...");
  EXPECT_EQ(back["ids"], nlohmann::json({1, 2, 3}));
}

// Random bytes, weighted towards the bytes that make UTF-8 interesting: whatever comes out is
// valid, replacing twice changes nothing more, and the JSON writer agrees with the text helper.
TEST(Utf8, RandomBytesAlwaysComeOutValidAndStable) {
  std::mt19937 rng(22);
  const std::string interesting = "\x80\xBF\xC0\xC2\xDF\xE0\xED\xEF\xF0\xF4\xF5\xFF" "a.";
  for (int trial = 0; trial < 20000; ++trial) {
    std::string bytes(rng() % 12, '\0');
    for (auto& b : bytes)
      b = rng() % 2 ? interesting[rng() % interesting.size()] : static_cast<char>(rng() % 256);
    const auto fixed = grpo::to_valid_utf8(bytes);
    ASSERT_TRUE(grpo::is_valid_utf8(fixed));
    ASSERT_EQ(grpo::to_valid_utf8(fixed), fixed);
    ASSERT_EQ(grpo::json_dump_lossy(nlohmann::json(bytes)), nlohmann::json(fixed).dump());
    if (grpo::is_valid_utf8(bytes)) {
      ASSERT_EQ(fixed, bytes);
    }
  }
}

}  // namespace
