// Chat templates rendered from configs/templates/*.json against exact strings written out
// by hand from each model's published format, recognition of tokenizer_config.json Jinja
// templates, and the tokenizer_config.json fields a tokenizer directory contributes.
#include <gtest/gtest.h>

#include <fstream>

#include "core/error.h"
#include "model/tokenizer/chat_template.h"
#include "model/tokenizer/tokenizer.h"
#include "tests/common/error_of.h"
#include "tests/tokenizer/test_data.h"

namespace grpo {
namespace {

const std::vector<ChatMessage> kConversation = {{"user", "What is 2+2?"}, {"assistant", "4"}, {"user", "And 3+3?"}};

TEST(ChatTemplate, R1ZeroRendersThePaperTemplate) {
  const auto t = builtin_chat_template("r1_zero");
  EXPECT_EQ(t.render_prompt("What is 2+3?"),
            "A conversation between User and Assistant. The user asks a question, and the Assistant solves it. "
            "The assistant first thinks about the reasoning process in the mind and then provides the user with the "
            "answer. The reasoning process and answer are enclosed within <think> </think> and <answer> </answer> "
            "tags, respectively, i.e., <think> reasoning process here </think> <answer> answer here </answer>. "
            "User: What is 2+3?. Assistant:");
}

TEST(ChatTemplate, ChatMlAddsQwenDefaultSystemAndGenerationPrompt) {
  const auto t = builtin_chat_template("chatml");
  EXPECT_EQ(t.render(kConversation, true),
            "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n"
            "<|im_start|>user\nWhat is 2+2?<|im_end|>\n<|im_start|>assistant\n4<|im_end|>\n"
            "<|im_start|>user\nAnd 3+3?<|im_end|>\n<|im_start|>assistant\n");
  EXPECT_EQ(t.render({{"system", "Be brief."}, {"user", "Hi"}}, false),
            "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n");
}

TEST(ChatTemplate, Llama3TrimsContentAndStartsWithBeginOfText) {
  const auto t = builtin_chat_template("llama3");
  EXPECT_EQ(t.render({{"system", "Be brief. "}, {"user", "  Hi\n"}}, true),
            "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nBe brief.<|eot_id|>"
            "<|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>"
            "<|start_header_id|>assistant<|end_header_id|>\n\n");
}

TEST(ChatTemplate, DeepSeekUsesFullWidthMarkers) {
  const auto t = builtin_chat_template("deepseek");
  EXPECT_EQ(t.render(kConversation, true),
            "<｜begin▁of▁sentence｜><｜User｜>What is 2+2?<｜Assistant｜>4<｜end▁of▁sentence｜>"
            "<｜User｜>And 3+3?<｜Assistant｜>");
}

TEST(ChatTemplate, UnknownNamesAndRolesAreErrors) {
  EXPECT_EQ(testing::error_of([] { builtin_chat_template("chatm"); }),
            "unknown chat template 'chatm' (did you mean 'chatml'?); valid names: chatml, deepseek, llama3, r1_zero");
  EXPECT_THROW(builtin_chat_template("chatml").render({{"tool", "x"}}, false), Error);
}

TEST(ChatTemplate, RecognizesPublishedJinjaTemplates) {
  const std::string qwen =
      "{%- for message in messages %}{{- '<|im_start|>' + message.role + '\\n' + message.content + '<|im_end|>' + "
      "'\\n' }}{%- endfor %}{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n' }}{%- endif %}";
  const std::string llama3 =
      "{% set content = '<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n'+ message['content'] | trim "
      "+ '<|eot_id|>' %}";
  const std::string deepseek =
      "{{'<｜User｜>' + message['content']}}{%- if message['role'] == 'assistant' %}{{'<｜Assistant｜>' + content + "
      "'<｜end▁of▁sentence｜>'}}";
  const std::string mistral = "{{ bos_token }}{% for message in messages %}[INST] {{ message['content'] }} [/INST]";
  EXPECT_EQ(recognize_chat_template(qwen).name, "chatml");
  EXPECT_EQ(recognize_chat_template(llama3).name, "llama3");
  EXPECT_EQ(recognize_chat_template(deepseek).name, "deepseek");
  const auto none = recognize_chat_template(mistral);
  EXPECT_EQ(none.name, "");
  EXPECT_NE(none.explanation.find("none of the known formats"), std::string::npos);
}

// A tokenizer directory: the qwen2 fixture's tokenizer.json plus a tokenizer_config.json.
std::string make_tokenizer_dir(const std::string& name, const nlohmann::json& config) {
  const auto dir = std::filesystem::path(GRPO_BINARY_DIR) / "tokenizer_test" / name;
  std::filesystem::create_directories(dir);
  std::filesystem::copy_file(testing::fixtures_root() / "tokenizers" / "qwen2" / "tokenizer.json", dir / "tokenizer.json",
                             std::filesystem::copy_options::overwrite_existing);
  std::ofstream(dir / "tokenizer_config.json") << config.dump();
  return dir.string();
}

TEST(ChatTemplate, TokenizerConfigGivesSpecialIdsAndTemplate) {
  GRPO_REQUIRE_FIXTURES("tokenizers");
  const std::string jinja = "{{'<|im_start|>' + message['role']}}{{'<|im_end|>'}}";
  const auto dir = make_tokenizer_dir("qwen_like", {{"eos_token", "<|im_end|>"},
                                                    {"pad_token", {{"content", "<|endoftext|>"}}},
                                                    {"bos_token", nullptr},
                                                    {"chat_template", jinja}});
  const Tokenizer tok = Tokenizer::from_file(dir);
  EXPECT_EQ(tok.special_ids().eos, 2);
  EXPECT_EQ(tok.special_ids().pad, 0);
  EXPECT_FALSE(tok.special_ids().bos.has_value());
  EXPECT_EQ(tok.chat_template(), jinja);
  EXPECT_EQ(recognize_chat_template(tok.chat_template()).name, "chatml");
  EXPECT_EQ(tok.encode("Hi", true), tok.encode("Hi", false));  // no post-processor
}

TEST(ChatTemplate, LlamaTokenizerClassAddsBosLikeTransformers) {
  GRPO_REQUIRE_FIXTURES("tokenizers");
  const auto dir = make_tokenizer_dir("llama_like", {{"tokenizer_class", "LlamaTokenizerFast"},
                                                     {"bos_token", "<|im_start|>"},
                                                     {"eos_token", "<|im_end|>"},
                                                     {"add_eos_token", true}});
  const Tokenizer tok = Tokenizer::from_file(dir);
  auto expected = tok.encode("Hi", false);
  expected.insert(expected.begin(), 1);
  expected.push_back(2);
  EXPECT_EQ(tok.encode("Hi", true), expected);
}

}  // namespace
}  // namespace grpo
