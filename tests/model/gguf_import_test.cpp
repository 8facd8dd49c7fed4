// `grpo model import` on crafted GGUF files: a tiny llama and qwen2 holding every tensor type the
// importer dequantizes go through import -> load_model, and the loaded weights hold the values
// computed by hand from their blocks (beside each expectation); llama's Q/K rows come back in
// Hugging Face order while qwen2's are left alone; bad inputs fail naming the file and leave no
// output directory behind.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <fstream>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "core/error.h"
#include "model/io/checkpoint.h"
#include "model/gguf/gguf_hf_mapping.h"
#include "model/gguf/gguf_import.h"
#include "model/gguf/gguf_info.h"
#include "model/io/model_io.h"
#include "model/tokenizer/tokenizer.h"
#include "tests/model/gguf_test_writer.h"
#include "tests/model/test_util.h"

namespace grpo::model::gguf {
namespace {

using testing::GgufWriter;
using Bytes = GgufWriter::Bytes;
namespace fs = std::filesystem;

constexpr int64_t kHidden = 64, kHeads = 4, kKvHeads = 2, kHeadDim = 16, kFf = 256, kLayers = 3, kVocab = 260;
enum Type : uint32_t { F32 = 0, F16 = 1, Q4_0 = 2, Q4_1 = 3, Q5_0 = 6, Q5_1 = 7, Q8_0 = 8, Q4_K = 12, Q5_K = 13, Q6_K = 14, BF16 = 30, IQ4_XS = 23 };

uint16_t half_bits(float v) {
  const auto t = torch::tensor({v}).to(torch::kHalf);
  uint16_t bits;
  std::memcpy(&bits, t.data_ptr(), 2);
  return bits;
}

void set_u16(Bytes& b, size_t at, uint16_t v) { std::memcpy(b.data() + at, &v, 2); }

// Random blocks of `type` for a [rows, cols] tensor, with small float16 scales so every value is
// finite; plain float types get small random values.
Bytes random_tensor(uint32_t type_id, int64_t rows, int64_t cols, std::mt19937& rng) {
  const GgmlType& type = *find_ggml_type(type_id);
  const int64_t n_blocks = rows * cols / type.block_size;
  Bytes b(static_cast<size_t>(n_blocks * type.type_size));
  for (auto& x : b) x = static_cast<uint8_t>(rng());
  std::map<uint32_t, std::vector<size_t>> scale_fields = {{Q4_0, {0}}, {Q4_1, {0, 2}}, {Q5_0, {0}}, {Q5_1, {0, 2}},
                                                          {Q8_0, {0}}, {Q4_K, {0, 2}}, {Q5_K, {0, 2}}, {Q6_K, {208}}};
  for (int64_t i = 0; i < n_blocks; ++i) {
    const size_t at = static_cast<size_t>(i * type.type_size);
    if (type_id == F32) {
      const float v = std::uniform_real_distribution<float>(-1, 1)(rng);
      std::memcpy(b.data() + at, &v, 4);
    } else if (type_id == F16) {
      set_u16(b, at, static_cast<uint16_t>(0x3000 + rng() % 0x800 + (rng() % 2) * 0x8000));
    } else if (type_id == BF16) {
      set_u16(b, at, static_cast<uint16_t>(0x3E00 + rng() % 0x100 + (rng() % 2) * 0x8000));
    } else {
      for (size_t field : scale_fields.at(type_id)) set_u16(b, at + field, 0x2C00);  // 0.0625
    }
  }
  return b;
}

// A block whose every element of GGUF row r is (r + 1) / 16: Q4_0 with d = (r + 1) / 16 and all
// nibbles 9 (d * (9 - 8)), or Q4_1 with d = 0 and m = (r + 1) / 16.
Bytes row_coded(uint32_t type, int64_t rows, int64_t cols) {
  const size_t block = type == Q4_0 ? 18 : 20;
  Bytes b;
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols / 32; ++c) {
      Bytes blk(block, 0);
      const uint16_t code = half_bits(static_cast<float>(r + 1) / 16);
      if (type == Q4_0) {
        set_u16(blk, 0, code);
        std::fill(blk.begin() + 2, blk.end(), 0x99);
      } else {
        set_u16(blk, 2, code);
      }
      b.insert(b.end(), blk.begin(), blk.end());
    }
  return b;
}

void replace_first_block(Bytes& tensor, const Bytes& block) { std::copy(block.begin(), block.end(), tensor.begin()); }

// The GPT-2 byte alphabet: token b is the printable stand-in for byte b (bytes_to_unicode).
std::vector<std::string> byte_level_tokens() {
  std::vector<int> printable;
  for (int b = '!'; b <= '~'; ++b) printable.push_back(b);
  for (int b = 0xA1; b <= 0xAC; ++b) printable.push_back(b);
  for (int b = 0xAE; b <= 0xFF; ++b) printable.push_back(b);
  std::vector<std::string> tokens(256);
  int extra = 0;
  for (int b = 0; b < 256; ++b) {
    const bool direct = std::find(printable.begin(), printable.end(), b) != printable.end();
    const int cp = direct ? b : 256 + extra++;
    std::string s;
    if (cp < 0x80) s += static_cast<char>(cp);
    else {
      s += static_cast<char>(0xC0 | (cp >> 6));
      s += static_cast<char>(0x80 | (cp & 0x3F));
    }
    tokens[b] = s;
  }
  return tokens;
}

struct TinyModel {
  std::string arch = "llama";
  bool tied = false;
  uint32_t ffn_down_type_override = 0;  // 0 = Q4_K, Q5_K, Q6_K by layer
  int64_t extra_tokens = 0;             // tokens beyond the model's vocabulary
  bool declare_vocab_size = false;      // write {arch}.vocab_size (the embedding's rows)
};

GgufWriter tiny_model(const TinyModel& m) {
  std::mt19937 rng(7);
  GgufWriter w;
  const std::string p = m.arch + ".";
  w.string("general.architecture", m.arch);
  w.u32(p + "block_count", kLayers);
  w.u32(p + "context_length", 128);
  w.u32(p + "embedding_length", kHidden);
  w.u32(p + "feed_forward_length", kFf);
  w.u32(p + "attention.head_count", kHeads);
  w.u32(p + "attention.head_count_kv", kKvHeads);
  w.f32(p + "rope.freq_base", 10000.0f);
  w.f32(p + "attention.layer_norm_rms_epsilon", 1e-5f);
  w.u32(p + "rope.dimension_count", kHeadDim);
  if (m.declare_vocab_size) w.u32(p + "vocab_size", kVocab);
  auto tokens = byte_level_tokens();
  tokens.insert(tokens.end(), {"he", "<|endoftext|>", "<|im_start|>", "<|im_end|>"});
  for (int64_t i = 0; i < m.extra_tokens; ++i) tokens.push_back("<extra_" + std::to_string(i) + ">");
  std::vector<int32_t> types(tokens.size(), 1);
  types[257] = types[258] = types[259] = 3;
  w.string("tokenizer.ggml.model", "gpt2");
  w.string("tokenizer.ggml.pre", "smollm");
  w.strings("tokenizer.ggml.tokens", tokens);
  w.i32s("tokenizer.ggml.token_type", types);
  w.strings("tokenizer.ggml.merges", {"h e"});
  w.u32("tokenizer.ggml.bos_token_id", 257);
  w.u32("tokenizer.ggml.eos_token_id", 259);
  w.string("tokenizer.chat_template", "{% for m in messages %}<|im_start|>{{ m['content'] }}<|im_end|>{% endfor %}");

  // token_embd (Q8_0): d = 0.125, q[0] = -7, q[31] = 127.
  auto embed = random_tensor(Q8_0, kVocab, kHidden, rng);
  Bytes q8(34, 0);
  set_u16(q8, 0, 0x3000);
  q8[2] = 0xF9;
  q8[33] = 0x7F;
  replace_first_block(embed, q8);
  w.tensor("token_embd.weight", {kHidden, kVocab}, Q8_0, embed);
  w.tensor("output_norm.weight", {kHidden}, F32, random_tensor(F32, 1, kHidden, rng));
  if (!m.tied) {
    auto head = random_tensor(F16, kVocab, kHidden, rng);
    replace_first_block(head, {0x00, 0x3C, 0x00, 0xC0, 0x01, 0x00, 0xFF, 0x7B});  // 1, -2, 2^-24, 65504
    w.tensor("output.weight", {kHidden, kVocab}, F16, head);
  }
  const uint32_t down_types[] = {Q4_K, Q5_K, Q6_K};
  for (int64_t l = 0; l < kLayers; ++l) {
    const std::string b = "blk." + std::to_string(l) + ".";
    auto attn_norm = random_tensor(F32, 1, kHidden, rng);
    const float one_and_half = 1.5f;
    std::memcpy(attn_norm.data(), &one_and_half, 4);
    w.tensor(b + "attn_norm.weight", {kHidden}, F32, attn_norm);
    auto ffn_norm = random_tensor(BF16, 1, kHidden, rng);
    replace_first_block(ffn_norm, {0x80, 0x3F, 0xA0, 0xC0});  // 1, -5
    w.tensor(b + "ffn_norm.weight", {kHidden}, BF16, ffn_norm);
    w.tensor(b + "attn_q.weight", {kHidden, kHeads * kHeadDim}, Q4_0, row_coded(Q4_0, kHeads * kHeadDim, kHidden));
    w.tensor(b + "attn_k.weight", {kHidden, kKvHeads * kHeadDim}, Q4_1, row_coded(Q4_1, kKvHeads * kHeadDim, kHidden));
    // attn_v (Q5_0): d = 0.25, qh bit 0 set, qs[0] = 0x3F.
    auto v = random_tensor(Q5_0, kKvHeads * kHeadDim, kHidden, rng);
    replace_first_block(v, {0x00, 0x34, 0x01, 0x00, 0x00, 0x00, 0x3F});
    w.tensor(b + "attn_v.weight", {kHidden, kKvHeads * kHeadDim}, Q5_0, v);
    // attn_output (Q5_1): d = 0.5, m = -2, qh bit 16 set, qs[0] = 0x7A.
    auto o = random_tensor(Q5_1, kHidden, kHidden, rng);
    replace_first_block(o, {0x00, 0x38, 0x00, 0xC0, 0x00, 0x00, 0x01, 0x00, 0x7A});
    w.tensor(b + "attn_output.weight", {kHidden, kHidden}, Q5_1, o);
    if (m.arch == "qwen2") {
      for (const auto& [name, rows] : {std::pair<std::string, int64_t>{"attn_q", kHeads * kHeadDim}, {"attn_k", kKvHeads * kHeadDim},
                                       {"attn_v", kKvHeads * kHeadDim}}) {
        std::vector<float> bias(rows);
        for (int64_t r = 0; r < rows; ++r) bias[r] = static_cast<float>(r);
        Bytes bytes(rows * 4);
        std::memcpy(bytes.data(), bias.data(), bytes.size());
        w.tensor(b + name + ".bias", {static_cast<uint64_t>(rows)}, F32, bytes);
      }
    }
    w.tensor(b + "ffn_gate.weight", {kHidden, kFf}, F16, random_tensor(F16, kFf, kHidden, rng));
    auto up = random_tensor(BF16, kFf, kHidden, rng);
    replace_first_block(up, {0x80, 0x3F, 0xA0, 0xC0});  // 1, -5
    w.tensor(b + "ffn_up.weight", {kHidden, kFf}, BF16, up);
    const uint32_t down_type = m.ffn_down_type_override ? m.ffn_down_type_override : down_types[l];
    auto down = random_tensor(down_type == IQ4_XS ? Q4_K : down_type, kHidden, kFf, rng);
    Bytes k(find_ggml_type(down_type)->type_size, 0);
    if (down_type == Q4_K) {  // see gguf_dequantize_test's Q4_K case
      set_u16(k, 0, 0x3C00);
      set_u16(k, 2, 0x3800);
      k[4] = 0x42, k[5] = 5, k[8] = 3, k[9] = 1, k[12] = 0x27, k[16] = 0x94, k[16 + 64] = 0x03;
    } else if (down_type == Q5_K) {  // d 0.25, dmin 1; scale/min 1/2 and 3/1; qh[0] = 3; qs[0] = 0x0F
      set_u16(k, 0, 0x3400);
      set_u16(k, 2, 0x3C00);
      k[4] = 1, k[5] = 3, k[8] = 2, k[9] = 1, k[16] = 0x03, k[48] = 0x0F;
    } else if (down_type == Q6_K) {  // see gguf_dequantize_test's Q6_K case
      set_u16(k, 208, 0x3800);
      k[192] = 0xFD, k[196] = 2, k[200] = 4, k[0] = 0x5C, k[128] = 0x09, k[64] = 0x0F, k[160] = 0x03;
    }
    if (down_type != IQ4_XS) replace_first_block(down, k);
    else down.resize(static_cast<size_t>(kHidden * kFf / 256 * 136));
    w.tensor(b + "ffn_down.weight", {kFf, kHidden}, down_type, down);
  }
  return w;
}

class GgufImportTest : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = grpo::model::testing::scratch_dir("gguf_import"); }
  void TearDown() override { grpo::try_remove_tree(dir_); }

  fs::path write(const TinyModel& m, const std::string& name = "tiny.gguf") {
    const auto path = dir_ / name;
    tiny_model(m).write(path);
    return path;
  }
  std::map<std::string, torch::Tensor> load(const fs::path& out) {
    model_ = std::make_unique<CausalLM>(load_model(out));
    std::map<std::string, torch::Tensor> by_name;
    for (const auto& [name, t] : checkpoint_tensors(*model_)) by_name[name] = t;
    return by_name;
  }
  // Import fails with a message naming `gguf` and holding `part`, and leaves nothing at `out`
  // (nor a staging directory beside it).
  void expect_import_error(const fs::path& gguf, const fs::path& out, const std::string& part) {
    try {
      import_gguf(gguf, out);
      FAIL() << "expected an error";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(gguf.string()), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find(part), std::string::npos) << e.what();
    }
    EXPECT_FALSE(fs::exists(out));
    for (const auto& entry : fs::directory_iterator(out.parent_path()))
      EXPECT_EQ(entry.path().filename().string().find("." + out.filename().string()), std::string::npos) << entry.path();
  }

  fs::path dir_;
  std::unique_ptr<CausalLM> model_;
};

TEST_F(GgufImportTest, ImportedLlamaLoadsWithHandComputedValues) {
  const auto gguf = write({});
  const auto out = dir_ / "llama";
  const auto result = import_gguf(gguf, out);
  EXPECT_EQ(result.tensors, 2 + 1 + kLayers * 9);
  const auto w = load(out);
  EXPECT_EQ(w.at("model.embed_tokens.weight")[0][0].item<float>(), 0.125f * -7);
  EXPECT_EQ(w.at("model.embed_tokens.weight")[0][31].item<float>(), 0.125f * 127);
  const auto head = w.at("lm_head.weight")[0];
  EXPECT_EQ(head[0].item<float>(), 1.0f);
  EXPECT_EQ(head[1].item<float>(), -2.0f);
  EXPECT_EQ(head[2].item<float>(), std::ldexp(1.0f, -24));
  EXPECT_EQ(head[3].item<float>(), 65504.0f);
  for (int64_t l = 0; l < kLayers; ++l) {
    const std::string p = "model.layers." + std::to_string(l) + ".";
    EXPECT_EQ(w.at(p + "input_layernorm.weight")[0].item<float>(), 1.5f);
    EXPECT_EQ(w.at(p + "post_attention_layernorm.weight")[1].item<float>(), -5.0f);
    EXPECT_EQ(w.at(p + "mlp.up_proj.weight")[0][0].item<float>(), 1.0f);
    EXPECT_EQ(w.at(p + "self_attn.v_proj.weight")[0][0].item<float>(), 0.25f * (15 + 16 - 16));  // nibble 15, qh bit 0
    EXPECT_EQ(w.at(p + "self_attn.v_proj.weight")[0][16].item<float>(), 0.25f * (3 - 16));       // nibble 3
    EXPECT_EQ(w.at(p + "self_attn.o_proj.weight")[0][0].item<float>(), 0.5f * 10 - 2);           // nibble 10
    EXPECT_EQ(w.at(p + "self_attn.o_proj.weight")[0][16].item<float>(), 0.5f * (7 + 16) - 2);    // nibble 7, qh bit 16
  }
  const auto down0 = w.at("model.layers.0.mlp.down_proj.weight")[0];  // Q4_K
  EXPECT_EQ(down0[0].item<float>(), 1.0f * 2 * 4 - 0.5f * 3);
  EXPECT_EQ(down0[32].item<float>(), 1.0f * 5 * 9 - 0.5f * 1);
  EXPECT_EQ(down0[128].item<float>(), 1.0f * 23 * 3 - 0.5f * 2);
  const auto down1 = w.at("model.layers.1.mlp.down_proj.weight")[0];  // Q5_K
  EXPECT_EQ(down1[0].item<float>(), 0.25f * 1 * 31 - 1.0f * 2);
  EXPECT_EQ(down1[32].item<float>(), 0.25f * 3 * 16 - 1.0f * 1);
  const auto down2 = w.at("model.layers.2.mlp.down_proj.weight")[0];  // Q6_K
  EXPECT_EQ(down2[0].item<float>(), (0.5f * -3) * (28 - 32));
  EXPECT_EQ(down2[64].item<float>(), (0.5f * 2) * (5 - 32));
  EXPECT_EQ(down2[128].item<float>(), (0.5f * 4) * (63 - 32));
  // Every tensor that is not permuted is the GGUF tensor itself, rows and columns as stored.
  const auto file = GgufFile::open(gguf);
  for (const auto& s : hf_tensor_sources(*file, load_model_config(out))) {
    if (s.rope_heads > 0) continue;
    EXPECT_TRUE(torch::equal(w.at(s.hf_name), dequantize_tensor(*file, *s.tensor))) << s.hf_name;
  }
}

TEST_F(GgufImportTest, LlamaQueryAndKeyRowsArePermutedBackPerHead) {
  const auto out = dir_ / "llama";
  import_gguf(write({}), out);
  const auto w = load(out);
  // Hugging Face row R of head h = R / 16 is GGUF row h * 16 + 2 * (R % 8) + (R % 16) / 8, whose
  // every element is (row + 1) / 16 (row_coded).
  auto gguf_row = [](int64_t r) { return r / kHeadDim * kHeadDim + 2 * (r % (kHeadDim / 2)) + (r % kHeadDim) / (kHeadDim / 2); };
  EXPECT_EQ(gguf_row(1), 2);
  EXPECT_EQ(gguf_row(8), 1);
  for (const auto& [name, rows] : {std::pair<std::string, int64_t>{"q_proj", kHeads * kHeadDim}, {"k_proj", kKvHeads * kHeadDim}}) {
    const auto t = w.at("model.layers.1.self_attn." + name + ".weight");
    ASSERT_EQ(t.size(0), rows);
    for (int64_t r = 0; r < rows; ++r) {
      const float expected = static_cast<float>(gguf_row(r) + 1) / 16;
      EXPECT_TRUE(torch::all(t[r] == expected).item<bool>()) << name << " row " << r << ": " << t[r][0].item<float>();
    }
  }
}

TEST(GgufRopePermutation, BiasRowsMoveLikeWeightRows) {
  // Two heads of 4: Hugging Face row j * 2 + i of a head is GGUF row 2 * i + j.
  const auto bias = undo_rope_permutation(torch::arange(8, torch::kFloat32), 2);
  EXPECT_TRUE(torch::equal(bias, torch::tensor({0.f, 2.f, 1.f, 3.f, 4.f, 6.f, 5.f, 7.f})));
  const auto weight = undo_rope_permutation(torch::arange(16, torch::kFloat32).reshape({8, 2}), 2);
  EXPECT_TRUE(torch::equal(weight.select(1, 0), torch::tensor({0.f, 4.f, 2.f, 6.f, 8.f, 12.f, 10.f, 14.f})));
  EXPECT_THROW(undo_rope_permutation(torch::zeros({6}), 2), Error);  // heads of 3 rows cannot pair
}

TEST_F(GgufImportTest, Qwen2KeepsRowOrderBiasesAndTiedEmbeddings) {
  const auto out = dir_ / "qwen2";
  import_gguf(write({"qwen2", /*tied=*/true}), out);
  const auto config = load_model_config(out);
  EXPECT_EQ(config.model_type, "qwen2");
  EXPECT_TRUE(config.tie_word_embeddings);
  EXPECT_TRUE(config.qkv_bias);
  const auto w = load(out);
  const auto q = w.at("model.layers.0.self_attn.q_proj.weight");
  for (int64_t r = 0; r < q.size(0); ++r)
    EXPECT_TRUE(torch::all(q[r] == static_cast<float>(r + 1) / 16).item<bool>()) << "row " << r;
  for (const char* name : {"q_proj", "k_proj", "v_proj"}) {
    const auto bias = w.at(std::string("model.layers.2.self_attn.") + name + ".bias");
    EXPECT_TRUE(torch::equal(bias, torch::arange(bias.size(0), torch::kFloat32))) << name;
  }
}

TEST_F(GgufImportTest, BFloat16ImportRoundsTheFloat32Values) {
  const auto gguf = write({});
  import_gguf(gguf, dir_ / "f32");
  ImportOptions options;
  options.dtype = torch::kBFloat16;
  import_gguf(gguf, dir_ / "bf16", options);
  const CheckpointReader f32(dir_ / "f32"), bf16(dir_ / "bf16");
  for (const auto& name : f32.names()) {
    EXPECT_EQ(bf16.entry(name).dtype, "BF16") << name;
    EXPECT_TRUE(torch::equal(bf16.tensor(name), f32.tensor(name).to(torch::kBFloat16))) << name;
  }
  std::ifstream config(dir_ / "bf16" / "config.json");
  EXPECT_EQ(nlohmann::json::parse(config).at("torch_dtype"), "bfloat16");
}

TEST_F(GgufImportTest, TokenizerAndGenerationConfigComeFromTheMetadata) {
  const auto out = dir_ / "llama";
  import_gguf(write({}), out);
  const auto tokenizer = Tokenizer::from_file(out.string());
  EXPECT_EQ(tokenizer.encode("he", false), (std::vector<int>{256}));  // the one merge
  EXPECT_EQ(tokenizer.token_to_id("<|im_end|>"), 259);
  std::ifstream gen_file(out / "generation_config.json");
  const auto gen = nlohmann::json::parse(gen_file);
  EXPECT_EQ(gen.at("bos_token_id"), 257);
  const auto eos = gen.at("eos_token_id");
  EXPECT_TRUE(eos == 259 || (eos.is_array() && std::find(eos.begin(), eos.end(), 259) != eos.end())) << eos.dump();
  const auto config = load_model_config(out);
  EXPECT_EQ(config.bos_token_id, 257);
  EXPECT_EQ(config.eos_token_ids, (std::vector<int64_t>{259}));
  EXPECT_EQ(config.vocab_size, kVocab);
  EXPECT_DOUBLE_EQ(config.rms_norm_eps, static_cast<double>(1e-5f));
}

TEST_F(GgufImportTest, ExistingOutputIsReplacedOnlyWithForce) {
  const auto gguf = write({});
  const auto out = dir_ / "llama";
  fs::create_directories(out);
  std::ofstream(out / "marker") << "old";
  try {
    import_gguf(gguf, out);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("already exists (pass --force to replace it)"), std::string::npos) << e.what();
  }
  EXPECT_TRUE(fs::exists(out / "marker"));
  ImportOptions force;
  force.force = true;
  import_gguf(gguf, out, force);
  EXPECT_FALSE(fs::exists(out / "marker"));
  EXPECT_TRUE(fs::exists(out / "model.safetensors"));
}

TEST_F(GgufImportTest, UnsupportedArchitectureIsNamedAndNothingIsWritten) {
  expect_import_error(write({"foo"}), dir_ / "out", "unsupported architecture 'foo' (supported: llama, qwen2)");
}

TEST_F(GgufImportTest, TensorTypeItCannotDequantizeIsNamedAndNothingIsWritten) {
  TinyModel m;
  m.ffn_down_type_override = IQ4_XS;
  expect_import_error(write(m), dir_ / "out", "tensor 'blk.0.ffn_down.weight' has type IQ4_XS (23)");
}

TEST_F(GgufImportTest, TokenizerLargerThanTheModelIsRejected) {
  TinyModel m;
  m.extra_tokens = 3;
  m.declare_vocab_size = true;
  expect_import_error(write(m), dir_ / "out", "the tokenizer has 263 tokens but the model's vocabulary is 260");
  // Without llama.vocab_size the vocabulary is the token count, and the embedding has too few rows.
  m.declare_vocab_size = false;
  expect_import_error(write(m), dir_ / "out", "tensor 'token_embd.weight' has shape [260, 64]");
}

TEST_F(GgufImportTest, SummaryCountsTensorsPerTypeAndBuildsTheConfig) {
  const auto summary = summarize_gguf(*GgufFile::open(write({})));
  EXPECT_EQ(summary.architecture, "llama");
  EXPECT_EQ(summary.tensors_per_type.at("Q4_0"), kLayers);
  EXPECT_EQ(summary.tensors_per_type.at("F16"), 1 + kLayers);  // output + ffn_gate
  EXPECT_EQ(summary.tensors_per_type.at("Q6_K"), 1);
  EXPECT_EQ(summary.config.num_key_value_heads, kKvHeads);
  EXPECT_EQ(summary.config.head_dim, kHeadDim);
  int64_t expected = 2 * kVocab * kHidden + kHidden;
  expected += kLayers * (2 * kHidden + 2 * kHidden * kHidden + 2 * kKvHeads * kHeadDim * kHidden + 3 * kHidden * kFf);
  EXPECT_EQ(summary.parameters, expected);
  EXPECT_NE(format_gguf_summary(summary).find("Q4_K x1"), std::string::npos) << format_gguf_summary(summary);
}

}  // namespace
}  // namespace grpo::model::gguf
