// Readers: every built-in shape on small files written here, JSON arrays, field maps, and the
// exact errors for malformed lines, missing fields and empty datasets.
#include <gtest/gtest.h>

#include <functional>

#include "core/error.h"
#include "core/text/json_parse.h"
#include "datasets/countdown.h"
#include "datasets/dataset_config.h"
#include "datasets/reader.h"
#include "tests/datasets/temp_files.h"

namespace grpo::datasets {
namespace {

ReadOptions shape_options(const std::string& name, const std::vector<std::string>& field_map = {}) {
  ReadOptions o;
  o.shape = with_field_map(shape_named(name), field_map);
  return o;
}

// what() of the grpo::Error thrown by `f`, or "<no error>".
std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "<no error>";
}

TEST(Readers, Gsm8kTakesTheNumberAfterHashesWithoutCommas) {
  testing::TempDir dir;
  const auto path = dir.write("gsm8k.jsonl",
                              R"({"question": "How many?", "answer": "3 + 4 = <<3+4=7>>7\n#### 7"})" "\n"
                              R"({"question": "How much?", "answer": "It costs 1,234 dollars.\n#### 1,234"})" "\n");
  const auto result = read_dataset(path, shape_options("gsm8k"));
  ASSERT_EQ(result.records.size(), 2u);
  EXPECT_EQ(result.records[0].prompt, "How many?");
  EXPECT_EQ(result.records[0].answer, "7");
  EXPECT_EQ(result.records[1].answer, "1234");
  EXPECT_EQ(result.records[1].extra["solution"], "It costs 1,234 dollars.\n#### 1,234");
  EXPECT_EQ(result.records[1].id, "gsm8k.jsonl:2");
  EXPECT_EQ(result.records[1].source.file, path);
  EXPECT_EQ(result.records[1].source.line, 2);
}

TEST(Readers, MathTakesTheLastBoxedAnswerWithNestedBraces) {
  testing::TempDir dir;
  const auto path = dir.write(
      "math.jsonl",
      R"({"problem": "Half of one?", "solution": "First \\boxed{2}, no: $\\boxed{\\frac{1}{2}}$.", "level": "Level 1"})"
      "\n");
  const auto result = read_dataset(path, shape_options("math"));
  ASSERT_EQ(result.records.size(), 1u);
  EXPECT_EQ(result.records[0].prompt, "Half of one?");
  EXPECT_EQ(result.records[0].answer, "\\frac{1}{2}");
  EXPECT_EQ(result.records[0].extra["level"], "Level 1");
}

TEST(Readers, Math500KeepsTheAnswerVerbatimAndUsesUniqueIdAsId) {
  testing::TempDir dir;
  const auto path = dir.write(
      "math500.jsonl",
      R"J({"problem": "P?", "answer": "\\left( 3, \\frac{\\pi}{2} \\right)", "unique_id": "test/precalculus/807.json", "subject": "Precalculus"})J"
      "\n");
  const auto result = read_dataset(path, shape_options("math500"));
  ASSERT_EQ(result.records.size(), 1u);
  EXPECT_EQ(result.records[0].id, "test/precalculus/807.json");
  EXPECT_EQ(result.records[0].answer, "\\left( 3, \\frac{\\pi}{2} \\right)");
  EXPECT_EQ(result.records[0].extra["subject"], "Precalculus");
  EXPECT_FALSE(result.records[0].extra.contains("unique_id"));
}

TEST(Readers, PromptAnswerKeepsExtraFieldsAndPrintsNumericAnswers) {
  testing::TempDir dir;
  const auto path = dir.write("pa.jsonl", R"({"id": 17, "prompt": "Make 24", "answer": 24, "numbers": [3, 8]})" "\n");
  const auto result = read_dataset(path, shape_options("prompt_answer"));
  ASSERT_EQ(result.records.size(), 1u);
  EXPECT_EQ(result.records[0].id, "17");
  EXPECT_EQ(result.records[0].answer, "24");
  EXPECT_EQ(result.records[0].extra["numbers"], nlohmann::json({3, 8}));
}

TEST(Readers, ChatReadsMessagesAndAllowsNoAnswer) {
  testing::TempDir dir;
  const auto path = dir.write("chat.jsonl",
                              R"({"messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}]})"
                              "\n");
  const auto result = read_dataset(path, shape_options("chat"));
  ASSERT_EQ(result.records.size(), 1u);
  const Record& r = result.records[0];
  ASSERT_TRUE(r.is_chat());
  ASSERT_EQ(r.messages.size(), 2u);
  EXPECT_EQ(r.messages[0].role, "system");
  EXPECT_EQ(r.messages[1].content, "Hi");
  EXPECT_EQ(r.answer, "");
}

TEST(Readers, CountdownBuildsThePromptFromNumbersAndTarget) {
  testing::TempDir dir;
  const auto path = dir.write("countdown.jsonl", R"({"target": 98, "nums": [44, 19, 35]})" "\n");
  const auto result = read_dataset(path, shape_options("countdown"));
  ASSERT_EQ(result.records.size(), 1u);
  const Record& r = result.records[0];
  EXPECT_EQ(r.prompt,
            "Using the numbers [44, 19, 35], create an equation that equals 98. You can use basic arithmetic "
            "operations (+, -, *, /) and each number can only be used once.");
  EXPECT_EQ(r.answer, "98");
  EXPECT_EQ(r.extra, nlohmann::json({{"numbers", {44, 19, 35}}, {"target", 98}}));

  const auto bad = dir.write("bad.jsonl", R"({"target": 98, "nums": [44, "19"]})" "\n");
  EXPECT_EQ(error_of([&] { read_dataset(bad, shape_options("countdown")); }),
            bad + ":1: field 'nums' must be a non-empty array of integers");
  const auto renamed = dir.write("renamed.jsonl", R"({"target": 5, "numbers": [2, 3]})" "\n");
  EXPECT_EQ(read_dataset(renamed, shape_options("countdown", {"numbers=numbers"})).records[0].answer, "5");
}

// `grpo data generate --task countdown` writes `numbers` (and its own prompt); the countdown
// shape, made for TinyZero's `nums`, reads those records back to the same problems.
TEST(Readers, CountdownReadsWhatTheGeneratorWrites) {
  testing::TempDir dir;
  const auto generated = generate_countdown(CountdownOptions{}, 6, 3, Split::kTrain);
  const auto path = dir.path("generated.jsonl");
  write_jsonl(path, generated);
  const auto result = read_dataset(path, shape_options("countdown"));
  ASSERT_EQ(result.records.size(), generated.size());
  for (size_t i = 0; i < generated.size(); ++i) {
    EXPECT_EQ(result.records[i].prompt, generated[i].prompt);
    EXPECT_EQ(result.records[i].answer, generated[i].answer);
    EXPECT_EQ(result.records[i].extra["numbers"], generated[i].extra["numbers"]);
  }
  const auto neither = dir.write("neither.jsonl", R"({"target": 5, "values": [2, 3]})" "\n");
  EXPECT_EQ(error_of([&] { read_dataset(neither, shape_options("countdown")); }),
            neither + ":1: missing field 'nums' (or 'numbers') (the countdown shape reads the numbers from it)");
}

TEST(Readers, FieldMapRenamesFields) {
  testing::TempDir dir;
  const auto path = dir.write("custom.jsonl", R"({"q": "2+2?", "gold": "4", "uid": "a1"})" "\n");
  const auto result = read_dataset(path, shape_options("prompt_answer", {"prompt=q", "answer=gold", "id=uid"}));
  ASSERT_EQ(result.records.size(), 1u);
  EXPECT_EQ(result.records[0].prompt, "2+2?");
  EXPECT_EQ(result.records[0].answer, "4");
  EXPECT_EQ(result.records[0].id, "a1");
  EXPECT_TRUE(result.records[0].extra.empty());
}

TEST(Readers, JsonArrayRecordsCarryTheLineWhereEachElementStarts) {
  testing::TempDir dir;
  const auto path = dir.write("arr.json",
                              "[\n"
                              "  {\"prompt\": \"a [,] {\\\"}\", \"answer\": \"1\"},\n"
                              "\n"
                              "  {\"prompt\": \"b\",\n"
                              "   \"answer\": \"2\"}\n"
                              "]\n");
  const auto result = read_dataset(path, shape_options("prompt_answer"));
  ASSERT_EQ(result.records.size(), 2u);
  EXPECT_EQ(result.records[0].prompt, "a [,] {\"}");
  EXPECT_EQ(result.records[0].source.line, 2);
  EXPECT_EQ(result.records[1].source.line, 4);
}

TEST(Readers, BlankLinesCrlfAndByteOrderMarkAreAccepted) {
  testing::TempDir dir;
  const auto path = dir.write("crlf.jsonl",
                              "\xEF\xBB\xBF{\"prompt\": \"a\", \"answer\": \"1\"}\r\n\r\n"
                              "{\"prompt\": \"b\", \"answer\": \"2\"}\r\n");
  const auto result = read_dataset(path, shape_options("prompt_answer"));
  ASSERT_EQ(result.records.size(), 2u);
  EXPECT_EQ(result.records[1].prompt, "b");
  EXPECT_EQ(result.records[1].source.line, 3);
}

TEST(Readers, MalformedLineNamesFileLineAndColumn) {
  testing::TempDir dir;
  const auto path = dir.write("bad.jsonl",
                              R"({"prompt": "a", "answer": "1"})" "\n"
                              R"({"prompt": "x" "answer": "y"})" "\n");
  EXPECT_EQ(error_of([&] { read_dataset(path, shape_options("prompt_answer")); }),
            path + ":2:23: malformed JSON: syntax error while parsing object - unexpected string literal; "
                   "expected '}'");
}

TEST(Readers, MalformedJsonArrayNamesLineAndColumn) {
  testing::TempDir dir;
  const auto path = dir.write("bad.json", "[\n {\"prompt\": \"a\", \"answer\": \"1\"},\n {\"prompt\": \"x\",, }\n]");
  EXPECT_EQ(error_of([&] { read_dataset(path, shape_options("prompt_answer")); }),
            path + ":3:17: malformed JSON: syntax error while parsing object key - unexpected ','; "
                   "expected string literal");
}

// Found by jsonl_record_fuzz: nlohmann throws out_of_range (not parse_error) for a number beyond
// a double, which escaped the reader as a non-grpo exception.
TEST(Readers, NumberOverflowingADoubleIsAnErrorNamingTheLine) {
  testing::TempDir dir;
  const auto path = dir.write("big.jsonl", R"({"prompt": "a", "answer": "1"})" "\n" "90e880\n");
  EXPECT_EQ(error_of([&] { read_dataset(path, shape_options("prompt_answer")); }),
            path + ":2: malformed JSON: number overflow parsing '90e880'");
  const auto array = dir.write("big.json", "[{\"prompt\": \"a\", \"answer\": 1e999}]");
  EXPECT_EQ(error_of([&] { read_dataset(array, shape_options("prompt_answer")); }),
            array + ": malformed JSON: number overflow parsing '1e999'");
}

// A record nested past kMaxJsonDepth would later be copied one stack frame per level.
TEST(Readers, NestingPastTheLimitIsAnErrorNamingTheLineAndTheLimit) {
  testing::TempDir dir;
  const std::string deep = std::string(kMaxJsonDepth, '[') + std::string(kMaxJsonDepth, ']');
  const auto path = dir.write("deep.jsonl", R"({"prompt": "a", "answer": "1"})" "\n{\"prompt\": " + deep + "}\n");
  EXPECT_EQ(error_of([&] { read_dataset(path, shape_options("prompt_answer")); }),
            path + ":2: JSON nests deeper than " + std::to_string(kMaxJsonDepth) +
                " levels (the limit for files read by grpo)");
}

TEST(Readers, MissingFieldNamesTheFieldAndLine) {
  testing::TempDir dir;
  const auto path = dir.write("gsm.jsonl",
                              R"({"question": "q1", "answer": "#### 1"})" "\n"
                              R"({"query": "q2", "answer": "#### 2"})" "\n");
  EXPECT_EQ(error_of([&] { read_dataset(path, shape_options("gsm8k")); }),
            path + ":2: missing field 'question' (the gsm8k shape reads the prompt from it)");
}

TEST(Readers, WrongTypesAndMissingFinalAnswersAreExactErrors) {
  testing::TempDir dir;
  const auto gsm = dir.write("gsm.jsonl", R"({"question": "q", "answer": "no final line"})" "\n");
  EXPECT_EQ(error_of([&] { read_dataset(gsm, shape_options("gsm8k")); }),
            gsm + ":1: field 'answer' has no final '#### <answer>' line");
  const auto math = dir.write("math.jsonl", R"({"problem": "p", "solution": "so 5"})" "\n");
  EXPECT_EQ(error_of([&] { read_dataset(math, shape_options("math")); }),
            math + ":1: field 'solution' has no \\boxed{...} answer");
  const auto typed = dir.write("typed.jsonl", R"({"prompt": 3, "answer": "1"})" "\n");
  EXPECT_EQ(error_of([&] { read_dataset(typed, shape_options("prompt_answer")); }),
            typed + ":1: field 'prompt' must be a string, got number");
  const auto chat = dir.write("chat.jsonl", R"({"messages": [{"role": "user"}]})" "\n");
  EXPECT_EQ(error_of([&] { read_dataset(chat, shape_options("chat")); }),
            chat + ":1: field 'messages[0]' is missing 'content'");
  const auto array = dir.write("notobj.jsonl", "[1, 2]\n");
  EXPECT_EQ(error_of([&] { read_dataset(array, shape_options("prompt_answer")); }),
            array + ":1: expected a JSON object, got number");
}

TEST(Readers, EmptyDatasetIsAnErrorNamingTheFile) {
  testing::TempDir dir;
  const auto empty = dir.write("empty.jsonl", "\n  \n");
  EXPECT_EQ(error_of([&] { read_dataset(empty, shape_options("prompt_answer")); }),
            empty + ": empty dataset: no records");
  const auto empty_array = dir.write("empty.json", "[ ]");
  EXPECT_EQ(error_of([&] { read_dataset(empty_array, shape_options("prompt_answer")); }),
            empty_array + ": empty dataset: no records");
  EXPECT_EQ(error_of([&] { read_dataset(dir.path("absent.jsonl"), shape_options("prompt_answer")); }),
            dir.path("absent.jsonl") + ": cannot open dataset file");
}

TEST(Readers, SkipModeCountsMalformedLinesAndKeepsTheRest) {
  testing::TempDir dir;
  const auto path = dir.write("mixed.jsonl",
                              R"({"prompt": "a", "answer": "1"})" "\n"
                              "{oops\n"
                              R"({"prompt": "b"})" "\n"
                              R"({"prompt": "c", "answer": "3"})" "\n");
  ReadOptions o = shape_options("prompt_answer");
  o.on_malformed = OnMalformed::kSkip;
  const auto result = read_dataset(path, o);
  ASSERT_EQ(result.records.size(), 2u);
  EXPECT_EQ(result.records[1].prompt, "c");
  EXPECT_EQ(result.records[1].source.line, 4);
  EXPECT_EQ(result.skipped, 2u);
  ASSERT_EQ(result.first_skipped.size(), 2u);
  EXPECT_EQ(result.first_skipped[0].line, 2);
  EXPECT_EQ(result.first_skipped[1].line, 3);
  EXPECT_EQ(result.first_skipped[1].reason, "missing field 'answer' (the prompt_answer shape reads the answer from it)");
}

TEST(Readers, SkipModeWithNothingLeftIsAnEmptyDatasetError) {
  testing::TempDir dir;
  const auto path = dir.write("allbad.jsonl", R"({"prompt": "b"})" "\n");
  ReadOptions o = shape_options("prompt_answer");
  o.on_malformed = OnMalformed::kSkip;
  EXPECT_EQ(error_of([&] { read_dataset(path, o); }),
            path + ": empty dataset: all 1 records were skipped as malformed (first, line 1: missing field 'answer' "
                   "(the prompt_answer shape reads the answer from it))");
}

TEST(Readers, UnknownFormatAndFieldMapKeysSuggestTheValidOnes) {
  EXPECT_EQ(error_of([] { shape_named("gsm8"); }),
            "unknown dataset format 'gsm8' (did you mean 'gsm8k'?); valid names: chat, countdown, gsm8k, math, "
            "math500, prompt_answer");
  EXPECT_EQ(error_of([] { with_field_map(shape_named("math"), {"promt=q"}); }),
            "field map key 'promt' is not one of id, prompt, messages, answer (did you mean 'prompt'?)");
}

TEST(Readers, ConfigSettingsBuildTheReadOptions) {
  DataSourceSettings settings{"x.jsonl", "chat", {"messages=conversation"}, "skip"};
  const ReadOptions o = read_options(settings);
  EXPECT_EQ(o.shape.name, "chat");
  EXPECT_EQ(o.shape.fields.messages, "conversation");
  EXPECT_EQ(o.on_malformed, OnMalformed::kSkip);
}

TEST(Readers, WrittenRecordsReadBackWithTheirExtraFields) {
  testing::TempDir dir;
  Record r;
  r.id = "cd-1";
  r.prompt = "Using the numbers [3, 8]...";
  r.answer = "24";
  r.extra = {{"numbers", {3, 8}}, {"target", 24}};
  const auto path = dir.path("out.jsonl");
  write_jsonl(path, {r});
  const auto back = read_dataset(path, shape_options("prompt_answer"));
  ASSERT_EQ(back.records.size(), 1u);
  EXPECT_EQ(back.records[0].id, "cd-1");
  EXPECT_EQ(back.records[0].prompt, r.prompt);
  EXPECT_EQ(back.records[0].answer, "24");
  EXPECT_EQ(back.records[0].extra, r.extra);
}

}  // namespace
}  // namespace grpo::datasets
