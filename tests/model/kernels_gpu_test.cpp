// model/'s CUDA kernels (label gpu; CUDA builds only, skipped without a device).
// Decode attention: against float64 attention written here over the same cache views, for Qwen-,
// Llama- and MHA-shaped heads and 16 query heads per kv head, rows of different lengths (a
// position past the visible keys is clamped), and one long row that takes the split-and-merge
// path; and a bf16 model decoded through the cache (kernel) against its full forward (SDPA).
// Absorbed MLA decode: against float64 attention over the latent cache (entries past each row's
// last key are NaN), for the benchmark's latent and DeepSeek-V3's, one and two head groups, and a
// split row; and a bf16 DeepSeek-V3-shaped model decoded through its cache against its full forward.
// MLA norm + RoPE + latent cache write: against compat::rms_norm, apply_rope (both layouts) and the
// indexed write, into scattered slots, no other cache row touched.
// RoPE + cache write: the same values as apply_rope and the cache's indexed write, into
// scattered slots, no other cache row touched.
// SwiGLU: forward and backward against float64 autograd of silu(gate) · up, in bf16 and float32,
// on the vector path (I a multiple of 8) and the scalar one.
// Residual add + RMSNorm: the residual bit-equal to a bf16 tensor add, the output against
// compat::rms_norm and float64 math of the definition, for Qwen2.5-0.5B's, a power-of-two and
// DeepSeek-V3's hidden sizes and 1 to 257 rows, through a [rows, 1, hidden] view of a wider buffer
// (memory outside the view untouched); float32 split-K partial sums as the delta (added in split
// order, rounded once); and which inputs it takes.
// Training RMSNorm: forward and both gradients against float64 autograd of the definition, for
// Qwen2.5-0.5B's and DeepSeek-V3's hidden sizes and row counts around the backward's row runs;
// dispatched only when autograd records (inference keeps compat::rms_norm).
// RoPE over a fused projection and its split into q, k, v: forward and backward bit-equal to
// apply_rope, the split and their autograd backward (v heads passed through), from gradients in
// attention's layouts.
// MoE row layout: every output against loops written here over the pairs, for V2-, benchmark- and
// V3-sized expert counts, pair counts across several of the kernel's chunks, and unused experts.
// MoE combine: forward and both gradients against float64 autograd of the gather-weight-sum,
// with padding rows (gradient zero) and rows laid out out of token order.
#include <gtest/gtest.h>

#include "core/torch/compat.h"
#include "model/cache/cache.h"
#include "model/kernels/attention/decode_attention.h"
#include "model/kernels/norm_activation/fused_add_rms_norm.h"
#include "model/kernels/moe/fused_expert_layout.h"
#include "model/kernels/moe/fused_moe_combine.h"
#include "model/kernels/norm_activation/fused_rms_norm.h"
#include "model/kernels/attention/fused_rope.h"
#include "model/kernels/attention/mla_decode_attention.h"
#include "model/kernels/norm_activation/fused_swiglu.h"
#include "model/io/model_io.h"
#include "model/arch/rope.h"
#include "model/arch/transformer.h"
#include "test_util.h"
#include "tests/common/cuda.h"

namespace grpo::model {
namespace {

using testing::relative_error;

using grpo::testing::kCuda;

struct Shape {
  int64_t heads, kv_heads, head_dim, key_len;
  std::vector<int64_t> positions;  // one per row
};

// Attention of q [B, H, 1, D] over keys [0, min(position, key_len - 1)] in float64, written
// from the definition: query head h reads kv head h / (H / Hkv).
torch::Tensor reference_attention(const torch::Tensor& q, const torch::Tensor& keys, const torch::Tensor& values,
                                  const std::vector<int64_t>& positions, double scale) {
  const int64_t groups = q.size(1) / keys.size(1), key_len = keys.size(2);
  auto k = keys.to(torch::kFloat64).repeat_interleave(groups, 1), v = values.to(torch::kFloat64).repeat_interleave(groups, 1);
  auto scores = torch::matmul(q.to(torch::kFloat64), k.transpose(-2, -1)) * scale;  // [B, H, 1, T]
  auto last = torch::tensor(positions, torch::kInt64).clamp_max(key_len - 1).to(q.device()).view({-1, 1, 1, 1});
  auto visible = torch::arange(key_len, last.options()).view({1, 1, 1, -1}) <= last;
  scores = scores.masked_fill(visible.logical_not(), -std::numeric_limits<double>::infinity());
  return torch::matmul(torch::softmax(scores, -1), v);
}

void check_shape(const Shape& s) {
  SCOPED_TRACE("heads " + std::to_string(s.heads) + "/" + std::to_string(s.kv_heads) + ", dim " +
               std::to_string(s.head_dim) + ", keys " + std::to_string(s.key_len));
  const int64_t rows = static_cast<int64_t>(s.positions.size()), max_len = s.key_len + 40;
  torch::manual_seed(7);
  const auto bf16 = torch::TensorOptions().dtype(torch::kBFloat16).device(kCuda);
  // Cache storage as InferenceCache holds it, [slots, Hkv, max_len, D]; the step sees rows
  // 1..rows through narrowed views, as a decode step over consecutive slots does.
  const auto k_store = torch::randn({rows + 2, s.kv_heads, max_len, s.head_dim}, bf16);
  const auto v_store = torch::randn({rows + 2, s.kv_heads, max_len, s.head_dim}, bf16);
  const auto keys = k_store.narrow(0, 1, rows).narrow(2, 0, s.key_len);
  const auto values = v_store.narrow(0, 1, rows).narrow(2, 0, s.key_len);
  // q as GqaAttention makes it: a transposed view of the fused projection's output.
  const auto qkv = torch::randn({rows, 1, s.heads + 2 * s.kv_heads, s.head_dim}, bf16) * 2;
  const auto q = qkv.narrow(2, 0, s.heads).transpose(1, 2);
  ASSERT_TRUE(decode_attention_applies(q, keys, values));
  const double scale = 1.0 / std::sqrt(static_cast<double>(s.head_dim));
  const auto positions = torch::tensor(s.positions, torch::kInt64).to(kCuda).unsqueeze(1);
  const auto got = decode_attention(q, keys, values, positions, scale);
  const auto want = reference_attention(q, keys, values, s.positions, scale);
  ASSERT_EQ(got.sizes(), want.sizes());
  const double err = relative_error(got.cpu(), want.cpu());
  std::cout << "[gpu decode attention] " << s.heads << "/" << s.kv_heads << " heads, dim " << s.head_dim << ", "
            << s.key_len << " keys: rel err " << err << "\n";
  EXPECT_LE(err, 1e-2);  // bf16 output rounding is 4e-3
}

TEST(GpuDecodeAttention, MatchesFloat64AttentionOverCacheViews) {
  GRPO_REQUIRE_CUDA();
  check_shape({14, 2, 64, 384, {0, 31, 32, 200, 383, 900}});  // Qwen2.5-0.5B heads; 900 is clamped
  check_shape({32, 8, 128, 130, {129, 5, 64}});               // Llama-3-8B heads
  check_shape({4, 4, 64, 96, {95, 0}});                       // MHA
  check_shape({8, 1, 128, 4096, {4000}});                     // one long row: 64 splits merged
  check_shape({32, 2, 64, 100, {99, 3}});                     // 16 query heads per kv head: a full MMA tile
}

// Logits of a random bf16 model decoded token by token through its cache (the decode kernels)
// against its full forward (SDPA), as a relative error.
double cached_decoding_error(const nlohmann::json& config) {
  CausalLM model(parse_model_config(config, "<decode kernels>"));
  torch::manual_seed(2);
  init_weights(model, 2);
  cast_model(model, torch::kBFloat16);
  model->to(kCuda);
  model->eval();
  torch::NoGradGuard no_grad;
  const int64_t batch = 3, prompt = 20, steps = 12, vocab = model->config().vocab_size;
  const auto ids = torch::randint(0, vocab, {batch, prompt + steps}, torch::kInt64).to(kCuda);
  ForwardInput full;
  full.input_ids = ids;
  const auto want = model->logits(model->forward(full).hidden).narrow(1, prompt, steps).to(torch::kFloat32);

  InferenceCache cache(model->config(), batch, prompt + steps, torch::TensorOptions().dtype(torch::kBFloat16).device(kCuda));
  ForwardInput in;
  in.cache = &cache;
  in.cache_slots = torch::arange(batch, torch::kInt64).to(kCuda);
  in.input_ids = ids.narrow(1, 0, prompt + 1);
  std::vector<torch::Tensor> got;
  got.push_back(model->logits(model->forward(in).hidden.select(1, -1)));
  for (int64_t s = 1; s < steps; ++s) {
    in.input_ids = ids.narrow(1, prompt + s, 1);
    got.push_back(model->logits(model->forward(in).hidden.select(1, -1)));
  }
  const auto decoded = torch::stack(got, 1).to(torch::kFloat32);
  return relative_error(decoded.cpu(), want.cpu());
}

TEST(GpuDecodeAttention, CachedBf16DecodingMatchesTheFullForward) {
  GRPO_REQUIRE_CUDA();
  // Qwen2-shaped with head_dim 64 and 7 query heads per kv head, so the cache steps take the kernel.
  const double err = cached_decoding_error(
      {{"model_type", "qwen2"}, {"vocab_size", 512}, {"hidden_size", 448}, {"intermediate_size", 640},
       {"num_hidden_layers", 2}, {"num_attention_heads", 7}, {"num_key_value_heads", 1},
       {"max_position_embeddings", 256}, {"rms_norm_eps", 1e-6}});
  std::cout << "[gpu decode attention] cached bf16 decoding vs full forward: logits rel err " << err << "\n";
  EXPECT_LE(err, 2e-2);
}

// Absorbed MLA attention of q [B, H, 1, dc + dr] over each row's entries [0, min(position,
// key_len - 1)] in float64, from the definition; entries past a row's last key are never read.
torch::Tensor reference_mla(const torch::Tensor& q, const torch::Tensor& cache, int64_t latent,
                            const std::vector<int64_t>& positions, double scale) {
  std::vector<torch::Tensor> rows;
  for (size_t b = 0; b < positions.size(); ++b) {
    const int64_t count = std::min(positions[b], cache.size(1) - 1) + 1;
    const auto entries = cache[static_cast<int64_t>(b)].narrow(0, 0, count).to(torch::kFloat64);  // [count, dc + dr]
    const auto scores = torch::matmul(q[static_cast<int64_t>(b)].squeeze(1).to(torch::kFloat64), entries.t()) * scale;
    rows.push_back(torch::matmul(torch::softmax(scores, -1), entries.narrow(1, 0, latent)).unsqueeze(1));  // [H, 1, dc]
  }
  return torch::stack(rows);
}

void check_mla(int64_t heads, int64_t latent, int64_t rope, int64_t key_len, const std::vector<int64_t>& positions) {
  SCOPED_TRACE("MLA " + std::to_string(heads) + " heads, " + std::to_string(latent) + "+" + std::to_string(rope) +
               ", keys " + std::to_string(key_len));
  const int64_t rows = static_cast<int64_t>(positions.size()), max_len = key_len + 40;
  torch::manual_seed(8);
  const auto bf16 = torch::TensorOptions().dtype(torch::kBFloat16).device(kCuda);
  // Latent storage as InferenceCache holds it, [slots, max_len, dc + dr], seen through a narrowed
  // view; every entry past a row's last key is NaN, so reading one would show.
  auto storage = torch::randn({rows + 2, max_len, latent + rope}, bf16);
  for (int64_t b = 0; b < rows; ++b) {
    const int64_t count = std::min(positions[b], key_len - 1) + 1;
    storage[b + 1].narrow(0, count, max_len - count).fill_(std::numeric_limits<float>::quiet_NaN());
  }
  const auto cache = storage.narrow(0, 1, rows).narrow(1, 0, key_len);
  // Queries as MlaAttention makes them: the latent part a transposed view of a per-head matmul,
  // the rope part a transposed view of the roped projection.
  const auto q_latent = torch::randn({heads, rows, 1, latent}, bf16).transpose(0, 1);
  const auto q_rope = (torch::randn({rows, 1, heads, rope}, bf16) * 2).transpose(1, 2);
  ASSERT_TRUE(mla_decode_applies(q_latent, q_rope, cache));
  const double scale = 1.0 / std::sqrt(96.0);
  const auto got = mla_decode_attention(q_latent, q_rope, cache, torch::tensor(positions, torch::kInt64).to(kCuda).unsqueeze(1), scale);
  const auto want = reference_mla(torch::cat({q_latent, q_rope}, -1), cache, latent, positions, scale);
  ASSERT_EQ(got.sizes(), want.sizes());
  const double err = relative_error(got.cpu(), want.cpu());
  std::cout << "[gpu mla decode] " << heads << " heads, " << latent << "+" << rope << ", " << key_len
            << " keys: rel err " << err << "\n";
  EXPECT_LE(err, 1e-2);  // bf16 probabilities and output: a few 4e-3 roundings
}

TEST(GpuMlaDecode, MatchesFloat64AttentionOverTheLatentCache) {
  GRPO_REQUIRE_CUDA();
  check_mla(16, 256, 32, 192, {0, 31, 32, 100, 191, 700});  // the MoE/MLA benchmark shape; 700 is clamped
  check_mla(32, 512, 64, 130, {129, 5, 64});                 // DeepSeek-V2/V3 latent, two head groups
  check_mla(16, 256, 32, 4096, {4000, 17});                  // a long row: split and merged
}

TEST(GpuMlaDecode, CachedBf16DecodingMatchesTheFullForward) {
  GRPO_REQUIRE_CUDA();
  // DeepSeek-V3-shaped with the benchmark's latent (256 + 32) and 16 heads, so decode takes the
  // kernel while the full forward expands K and V per head. Dense layers only: bf16 routing
  // near-ties would move tokens between experts and measure the router, not the attention.
  const double err = cached_decoding_error(
      {{"model_type", "deepseek_v3"}, {"vocab_size", 512}, {"hidden_size", 256}, {"intermediate_size", 512},
       {"moe_intermediate_size", 64}, {"num_hidden_layers", 2}, {"first_k_dense_replace", 2},
       {"n_routed_experts", 8}, {"n_shared_experts", 1}, {"num_experts_per_tok", 2}, {"n_group", 1},
       {"topk_group", 1}, {"norm_topk_prob", false}, {"q_lora_rank", nullptr}, {"kv_lora_rank", 256},
       {"qk_nope_head_dim", 32}, {"qk_rope_head_dim", 32}, {"v_head_dim", 32}, {"num_attention_heads", 16},
       {"num_key_value_heads", 16}, {"max_position_embeddings", 256}, {"rms_norm_eps", 1e-6}});
  std::cout << "[gpu mla decode] cached bf16 decoding vs full forward: logits rel err " << err << "\n";
  EXPECT_LE(err, 2e-2);
}

TEST(GpuRopeCacheWrite, EqualsApplyRopeAndTheIndexedCacheWrite) {
  GRPO_REQUIRE_CUDA();
  using torch::indexing::Slice;
  const int64_t batch = 5, heads = 14, kv_heads = 2, dim = 64, slots_total = 8, rows_total = 50;
  torch::manual_seed(6);
  const auto bf16 = torch::TensorOptions().dtype(torch::kBFloat16).device(kCuda);
  const auto int64 = torch::TensorOptions().dtype(torch::kInt64).device(kCuda);
  const auto qkv = torch::randn({batch, 1, heads + 2 * kv_heads, dim}, bf16) * 2;
  const auto positions = torch::tensor({0, 7, 31, 48, 12}, int64).unsqueeze(1);
  const auto slots = torch::tensor({3, 1, 6, 0, 2}, int64);
  RopeFrequencies freqs{1.0 / torch::pow(1e6, torch::arange(0, dim, 2, torch::kFloat64) / dim).to(torch::kFloat32).to(kCuda)};
  const auto [cos, sin] = rope_cos_sin(freqs, positions, torch::kBFloat16);
  const auto k_store = torch::randn({slots_total, kv_heads, rows_total, dim}, bf16);
  const auto v_store = torch::randn({slots_total, kv_heads, rows_total, dim}, bf16);
  auto k_ref = k_store.clone(), v_ref = v_store.clone();

  ASSERT_TRUE(rope_cache_write_applies(qkv, cos, k_store, v_store));
  const auto q = rope_and_cache_write(qkv, cos, sin, k_store, v_store, slots, positions, heads);

  const auto rotated = apply_rope(qkv.narrow(2, 0, heads + kv_heads), cos, sin, false);  // [B, 1, H + Hkv, D]
  const auto q_ref = rotated.narrow(2, 0, heads).transpose(1, 2);
  const auto rows = slots.unsqueeze(1);
  k_ref.index_put_({rows, Slice(), positions}, rotated.narrow(2, heads, kv_heads));
  v_ref.index_put_({rows, Slice(), positions}, qkv.narrow(2, heads + kv_heads, kv_heads));
  // Each product and the sum round as the tensor ops round, so the bits should agree; the bound
  // allows one bf16 rounding apart (4e-3), far below a wrong row, head or sign.
  const double q_err = relative_error(q.cpu(), q_ref.cpu()), k_err = relative_error(k_store.cpu(), k_ref.cpu());
  std::cout << "[gpu rope cache write] q rel err " << q_err << " (bit-equal " << torch::equal(q.cpu(), q_ref.cpu())
            << "), k rel err " << k_err << " (bit-equal " << torch::equal(k_store.cpu(), k_ref.cpu()) << ")\n";
  EXPECT_LE(q_err, 1e-2);
  EXPECT_LE(k_err, 1e-2);
  EXPECT_TRUE(torch::equal(v_store.cpu(), v_ref.cpu()));
}

void check_mla_rope_cache_write(bool interleaved) {
  SCOPED_TRACE(interleaved ? "interleaved" : "half layout");
  const int64_t batch = 5, heads = 16, nope = 64, rope = 32, latent = 256, slots_total = 8, rows_total = 50;
  torch::manual_seed(9);
  const auto bf16 = torch::TensorOptions().dtype(torch::kBFloat16).device(kCuda);
  const auto int64 = torch::TensorOptions().dtype(torch::kInt64).device(kCuda);
  const auto q = torch::randn({batch, 1, heads, nope + rope}, bf16) * 2;
  const auto kv_full = torch::randn({batch, 1, latent + rope + 8}, bf16) * 3;  // a strided view, as narrow leaves it
  const auto kv = kv_full.narrow(2, 0, latent + rope);
  const auto weight = (torch::rand({latent}) + 0.5).to(kCuda, torch::kBFloat16);
  const auto positions = torch::tensor({0, 7, 31, 48, 12}, int64).unsqueeze(1);
  const auto slots = torch::tensor({3, 1, 6, 0, 2}, int64);
  RopeFrequencies freqs{1.0 / torch::pow(1e4, torch::arange(0, rope, 2, torch::kFloat64) / rope).to(torch::kFloat32).to(kCuda)};
  const auto [cos, sin] = rope_cos_sin(freqs, positions, torch::kBFloat16);
  const auto store = torch::randn({slots_total, rows_total, latent + rope}, bf16);
  auto store_ref = store.clone();

  ASSERT_TRUE(mla_rope_cache_write_applies(q, kv, weight, cos, store));
  const auto q_rope = mla_rope_and_cache_write(q, kv, weight, 1e-6, cos, sin, interleaved, store, slots, positions);

  const auto q_ref = apply_rope(q.narrow(-1, nope, rope), cos, sin, interleaved).transpose(1, 2);  // [B, H, 1, rope]
  const auto latent_ref = compat::rms_norm(kv.narrow(-1, 0, latent), weight, 1e-6);
  const auto k_ref = apply_rope(kv.narrow(-1, latent, rope).unsqueeze(2), cos, sin, interleaved).squeeze(2);
  store_ref.index_put_({slots.unsqueeze(1), positions}, torch::cat({latent_ref, k_ref}, -1));
  const double q_err = relative_error(q_rope.cpu(), q_ref.cpu()), s_err = relative_error(store.cpu(), store_ref.cpu());
  std::cout << "[gpu mla rope cache write] " << (interleaved ? "interleaved" : "half") << ": q rel err " << q_err
            << " (bit-equal " << torch::equal(q_rope.cpu(), q_ref.cpu()) << "), cache rel err " << s_err
            << " (bit-equal " << torch::equal(store.cpu(), store_ref.cpu()) << ")\n";
  EXPECT_LE(q_err, 1e-2);  // one bf16 rounding apart at most (4e-3), far below a wrong pair or sign
  EXPECT_LE(s_err, 1e-2);
  // Rows not written keep their bits.
  auto untouched = torch::ones({slots_total, rows_total}, torch::kBool);
  for (int64_t b = 0; b < batch; ++b) untouched[slots[b].item<int64_t>()][positions[b][0].item<int64_t>()] = false;
  EXPECT_TRUE(torch::equal(store.cpu().index({untouched}), store_ref.cpu().index({untouched})));
}

TEST(GpuMlaRopeCacheWrite, EqualsNormRopeAndTheIndexedWrite) {
  GRPO_REQUIRE_CUDA();
  check_mla_rope_cache_write(false);
  check_mla_rope_cache_write(true);
}

void check_swiglu(torch::Dtype dtype, int64_t inter) {
  SCOPED_TRACE(std::string(dtype == torch::kBFloat16 ? "bf16" : "float32") + ", I = " + std::to_string(inter));
  torch::manual_seed(4);
  const auto x = (torch::randn({3, 37, 2 * inter}) * 3).to(kCuda, dtype);
  const auto upstream = torch::randn({3, 37, inter}).to(kCuda, dtype);
  ASSERT_TRUE(fused_swiglu_applies(x));
  auto input = x.clone().requires_grad_(true);
  auto out = fused_swiglu(input);
  out.backward(upstream);
  auto ref_input = x.to(torch::kFloat64).requires_grad_(true);
  const auto halves = ref_input.chunk(2, -1);
  auto ref = torch::silu(halves[0]) * halves[1];
  ref.backward(upstream.to(torch::kFloat64));
  const double tol = dtype == torch::kBFloat16 ? 8e-3 : 1e-5;  // one bf16 rounding is 4e-3
  EXPECT_LE(relative_error(out.detach().cpu(), ref.detach().cpu()), tol);
  EXPECT_LE(relative_error(input.grad().cpu(), ref_input.grad().cpu()), tol);
}

TEST(GpuSwiglu, ForwardAndBackwardMatchFloat64Autograd) {
  GRPO_REQUIRE_CUDA();
  check_swiglu(torch::kBFloat16, 64);
  check_swiglu(torch::kFloat32, 64);
  check_swiglu(torch::kBFloat16, 37);
  check_swiglu(torch::kFloat32, 37);
}

// The decode step's residual [rows, 1, hidden] as a view of rows 1..rows and the first `hidden`
// columns of a [rows + 2, width] buffer (width = hidden: rows contiguous).
void check_add_rms_norm(int64_t rows, int64_t hidden, int64_t width) {
  SCOPED_TRACE(std::to_string(rows) + " rows, hidden " + std::to_string(hidden) + ", width " + std::to_string(width));
  torch::manual_seed(11);
  const auto bf16 = torch::TensorOptions().dtype(torch::kBFloat16).device(kCuda);
  auto storage = torch::randn({rows + 2, width}, bf16) * 4;
  const auto before = storage.clone();
  auto residual = storage.narrow(0, 1, rows).narrow(1, 0, hidden).unsqueeze(1);
  const auto delta = torch::randn({rows, 1, hidden}, bf16);
  const auto weight = (torch::rand({hidden}) + 0.5).to(kCuda, torch::kBFloat16);
  const double eps = 1e-6;
  const auto sum = residual + delta;  // a bf16 add rounds the float32 sum once, as the kernel does
  auto expected_storage = before.clone();
  expected_storage.narrow(0, 1, rows).narrow(1, 0, hidden).copy_(sum.squeeze(1));

  ASSERT_TRUE(fused_add_rms_norm_applies(residual, delta, weight));
  const auto out = fused_add_rms_norm_(residual, delta, weight, eps);
  ASSERT_EQ(out.sizes(), residual.sizes());
  EXPECT_TRUE(out.is_contiguous());
  // The view holds the sum bit for bit; the rest of the buffer keeps its bits.
  EXPECT_TRUE(torch::equal(storage.cpu(), expected_storage.cpu()));

  const auto ref = compat::rms_norm(sum, weight, eps);  // at::rms_norm: float32, one rounding
  const auto x = sum.to(torch::kFloat64);
  const auto exact = x * torch::rsqrt(x.pow(2).mean(-1, true) + eps) * weight.to(torch::kFloat64);
  const double ref_err = relative_error(out.cpu(), ref.cpu()), exact_err = relative_error(out.cpu(), exact.cpu());
  std::cout << "[gpu add rms_norm] " << rows << " rows, hidden " << hidden << ", width " << width << ": rel err "
            << ref_err << " vs rms_norm (bit-equal " << torch::equal(out.cpu(), ref.cpu()) << "), " << exact_err
            << " vs float64\n";
  // bf16 values one ulp apart differ by at most 2^-8 of the element (under 4e-3 of the largest):
  // the bounds allow about that, far below a wrong rstd, weight or row.
  EXPECT_LE(ref_err, 8e-3);
  EXPECT_LE(exact_err, 8e-3);
}

TEST(GpuAddRmsNorm, ResidualIsTheBf16SumAndOutputItsRmsNorm) {
  GRPO_REQUIRE_CUDA();
  for (const int64_t hidden : {896, 1024, 7168})
    for (const int64_t rows : {1, 3, 64, 257}) check_add_rms_norm(rows, hidden, hidden);
  check_add_rms_norm(5, 896, 896 + 24);  // a row stride past hidden: the columns beyond are not touched
  check_add_rms_norm(64, 7168, 7168 + 64);
}

// The same with the delta given as float32 split-K partial sums [S, rows, hidden]: the residual
// gains their sum rounded to bf16 once (partials.sum(0).to(bf16), summed in split order).
void check_add_sum_rms_norm(int64_t splits, int64_t rows, int64_t hidden) {
  SCOPED_TRACE(std::to_string(splits) + " splits, " + std::to_string(rows) + " rows, hidden " + std::to_string(hidden));
  torch::manual_seed(12);
  const auto bf16 = torch::TensorOptions().dtype(torch::kBFloat16).device(kCuda);
  auto residual = torch::randn({rows, 1, hidden}, bf16) * 4;
  const auto partials = torch::randn({splits, rows, hidden}, torch::TensorOptions().device(kCuda));
  const auto weight = (torch::rand({hidden}) + 0.5).to(kCuda, torch::kBFloat16);
  const double eps = 1e-6;
  // Split order, one split at a time in float32: the order the kernel adds them in.
  auto total = partials[0].clone();
  for (int64_t s = 1; s < splits; ++s) total += partials[s];
  const auto sum = residual + total.to(torch::kBFloat16).view(residual.sizes());
  ASSERT_TRUE(fused_add_sum_rms_norm_applies(residual, partials, weight));
  const auto out = fused_add_sum_rms_norm_(residual, partials, weight, eps);
  EXPECT_TRUE(torch::equal(residual.cpu(), sum.cpu())) << "the residual is not the bf16 sum of the splits";
  const auto x = sum.to(torch::kFloat64);
  const auto exact = x * torch::rsqrt(x.pow(2).mean(-1, true) + eps) * weight.to(torch::kFloat64);
  const double err = relative_error(out.cpu(), exact.cpu());
  std::cout << "[gpu add sum rms_norm] " << splits << " splits, " << rows << " rows, hidden " << hidden << ": rel err "
            << err << " vs float64\n";
  EXPECT_LE(err, 8e-3);
}

TEST(GpuAddRmsNorm, SplitPartialSumsAreAddedInOrderAndNormalized) {
  GRPO_REQUIRE_CUDA();
  check_add_sum_rms_norm(1, 3, 1024);
  check_add_sum_rms_norm(33, 64, 1024);
  check_add_sum_rms_norm(5, 7, 7168);
  const auto bf16 = torch::TensorOptions().dtype(torch::kBFloat16).device(kCuda);
  const auto x = torch::randn({4, 1, 896}, bf16), weight = torch::ones({896}, bf16);
  EXPECT_FALSE(fused_add_sum_rms_norm_applies(x, torch::zeros({2, 5, 896}, torch::TensorOptions().device(kCuda)), weight))
      << "partials for another number of rows";
  EXPECT_FALSE(fused_add_sum_rms_norm_applies(x, torch::zeros({2, 4, 896}, bf16), weight)) << "bf16 partials";
}

TEST(GpuAddRmsNorm, AppliesOnlyToUngradedBf16RowsOfSupportedWidth) {
  GRPO_REQUIRE_CUDA();
  const auto bf16 = torch::TensorOptions().dtype(torch::kBFloat16).device(kCuda);
  const auto x = torch::randn({4, 1, 896}, bf16), weight = torch::ones({896}, bf16);
  EXPECT_TRUE(fused_add_rms_norm_applies(x, x.clone(), weight));
  EXPECT_FALSE(fused_add_rms_norm_applies(x.to(torch::kFloat32), x.to(torch::kFloat32), weight.to(torch::kFloat32)));
  EXPECT_FALSE(fused_add_rms_norm_applies(x.cpu(), x.cpu(), weight.cpu()));
  const auto odd = torch::randn({4, 1, 900}, bf16);  // not a multiple of 8
  EXPECT_FALSE(fused_add_rms_norm_applies(odd, odd.clone(), torch::ones({900}, bf16)));
  const auto misaligned = torch::randn({4, 904}, bf16).narrow(1, 4, 896);  // rows start 8 bytes in
  EXPECT_FALSE(fused_add_rms_norm_applies(misaligned, x.view({4, 896}), weight));
  const auto transposed = torch::randn({896, 4}, bf16).t();  // unit stride on the rows, not the columns
  EXPECT_FALSE(fused_add_rms_norm_applies(transposed, x.view({4, 896}), weight));
  const auto graded = weight.clone().requires_grad_(true);
  EXPECT_FALSE(fused_add_rms_norm_applies(x, x.clone(), graded));
  torch::NoGradGuard no_grad;
  EXPECT_TRUE(fused_add_rms_norm_applies(x, x.clone(), graded));  // as in a rollout: nothing recorded
}

TEST(GpuRmsNorm, ForwardAndGradientsMatchFloat64Autograd) {
  GRPO_REQUIRE_CUDA();
  torch::manual_seed(23);
  for (int64_t hidden : {896, 7168})
    for (int64_t rows : {1, 13, 64}) {
      SCOPED_TRACE("hidden " + std::to_string(hidden) + ", rows " + std::to_string(rows));
      const double eps = 1e-6;
      const auto x = (torch::randn({rows, 1, hidden}) * 3).to(torch::kBFloat16);
      const auto w = (torch::rand({hidden}) + 0.5).to(torch::kBFloat16);
      const auto g = torch::randn({rows, 1, hidden}).to(torch::kBFloat16);
      auto x64 = x.to(torch::kFloat64).requires_grad_(true), w64 = w.to(torch::kFloat64).requires_grad_(true);
      auto want = x64 * torch::rsqrt(x64.pow(2).mean(-1, true) + eps) * w64;
      want.backward(g.to(torch::kFloat64));

      auto xc = x.to(kCuda).requires_grad_(true), wc = w.to(kCuda).requires_grad_(true);
      ASSERT_TRUE(fused_rms_norm_applies(xc, wc));
      auto got = fused_rms_norm(xc, wc, eps);
      got.backward(g.to(kCuda));
      EXPECT_LT(relative_error(got.cpu(), want.detach()), 4e-3);
      EXPECT_LT(relative_error(xc.grad().cpu(), x64.grad()), 4e-3);
      EXPECT_LT(relative_error(wc.grad().cpu(), w64.grad()), 4e-3);
      // The model's norm takes this path only under autograd.
      RMSNorm norm(hidden, eps);
      norm->to(kCuda, torch::kBFloat16);
      torch::NoGradGuard no_grad;
      EXPECT_TRUE(torch::equal(norm->forward(x.to(kCuda)), compat::rms_norm(x.to(kCuda), norm->weight, eps)));
    }
}

TEST(GpuRopeRotate, ForwardAndBackwardAreTheBitsOfApplyRopeSplitAndTheirAutograd) {
  GRPO_REQUIRE_CUDA();
  torch::manual_seed(22);
  const int64_t b = 2, t = 33, heads = 4, kv_heads = 2, d = 64, all = heads + 2 * kv_heads;
  ModelConfig c;
  c.head_dim = d;
  const auto positions = torch::arange(b * t, torch::kInt64).view({b, t}).to(kCuda);
  const auto [cos, sin] = rope_cos_sin(rope_frequencies(c), positions, torch::kBFloat16);
  const auto x = torch::randn({b, t, all, d}).to(kCuda, torch::kBFloat16);
  // Gradients as attention's backward leaves them: q's through a transpose, k's and v's plain.
  const auto gq = torch::randn({b, heads, t, d}).to(kCuda, torch::kBFloat16).transpose(1, 2);
  const auto gk = torch::randn({b, t, kv_heads, d}).to(kCuda, torch::kBFloat16);
  const auto gv = torch::randn({b, t, kv_heads, d}).to(kCuda, torch::kBFloat16);
  ASSERT_TRUE(fused_rope_applies(x, cos, sin));

  auto x_ref = x.clone().requires_grad_(true);
  auto split = x_ref.split_with_sizes({heads + kv_heads, kv_heads}, 2);
  auto want = torch::cat({apply_rope(split[0], cos, sin, false), split[1]}, 2).split_with_sizes({heads, kv_heads, kv_heads}, 2);
  torch::autograd::backward({want[0], want[1], want[2]}, {gq, gk, gv});

  auto x_fused = x.clone().requires_grad_(true);
  auto got = fused_rope_split(x_fused, cos, sin, heads, kv_heads);
  torch::autograd::backward({got[0], got[1], got[2]}, {gq, gk, gv});
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(torch::equal(got[i], want[i])) << "part " << i;
  EXPECT_TRUE(torch::equal(x_fused.grad(), x_ref.grad()));
  EXPECT_FALSE(fused_rope_applies(x.narrow(3, 0, 32), cos, sin));  // partial rotary: the tensor ops
}

TEST(GpuExpertLayout, EqualsTheStableLayoutComputedPairByPair) {
  GRPO_REQUIRE_CUDA();
  torch::manual_seed(24);
  const int64_t align = 16;
  for (auto [tokens, k, experts] : {std::tuple<int64_t, int64_t, int64_t>{5, 2, 10}, {700, 6, 64}, {333, 8, 256}}) {
    SCOPED_TRACE(std::to_string(tokens) + " tokens, top " + std::to_string(k) + " of " + std::to_string(experts));
    const int64_t pairs = tokens * k, rows = pairs + experts * (align - 1);
    // Skewed routing: experts above half are rare, so some get no pair at all.
    auto ids = (torch::rand({pairs}).pow(3) * experts).to(torch::kInt64).clamp_max(experts - 1);
    const auto* e = ids.data_ptr<int64_t>();
    std::vector<int64_t> count(experts, 0), start(experts, 0), ends(experts, 0);
    for (int64_t p = 0; p < pairs; ++p) ++count[e[p]];
    for (int64_t x = 0, s = 0; x < experts; ++x) {
      start[x] = s;
      s += (count[x] + align - 1) / align * align;
      ends[x] = x == experts - 1 ? rows : s;
    }
    std::vector<int64_t> row_of_pair(pairs), token_of_row(rows, 0), pair_of_row(rows, pairs), next = start;
    for (int64_t p = 0; p < pairs; ++p) {
      const int64_t r = next[e[p]]++;
      row_of_pair[p] = r, token_of_row[r] = p / k, pair_of_row[r] = p;
    }
    ASSERT_TRUE(fused_expert_layout_applies(ids.to(kCuda), experts));
    const auto got = fused_expert_layout(ids.to(kCuda), experts, k, align);
    auto as_tensor = [](const std::vector<int64_t>& v) { return torch::tensor(v, torch::kInt64); };
    EXPECT_TRUE(torch::equal(got.row_of_pair.cpu(), as_tensor(row_of_pair)));
    EXPECT_TRUE(torch::equal(got.token_of_row.cpu(), as_tensor(token_of_row)));
    EXPECT_TRUE(torch::equal(got.pair_of_row.cpu().view({-1}), as_tensor(pair_of_row)));
    EXPECT_TRUE(torch::equal(got.ends.cpu().to(torch::kInt64), as_tensor(ends)));
  }
}

TEST(GpuMoeCombine, ForwardAndGradientsMatchFloat64Autograd) {
  GRPO_REQUIRE_CUDA();
  torch::manual_seed(21);
  const int64_t tokens = 37, k = 3, hidden = 72, pairs = tokens * k, padding = 9, row_count = pairs + padding;
  // Pair p lives in row row_of_pair[p] of a shuffled layout; the other rows are padding.
  const auto perm = torch::randperm(row_count, torch::kInt64);
  const auto row_of_pair = perm.narrow(0, 0, pairs).contiguous();
  auto pair_of_row = torch::full({row_count}, pairs, torch::kInt64);
  pair_of_row.index_copy_(0, row_of_pair, torch::arange(pairs, torch::kInt64));
  const auto rows = torch::randn({row_count, hidden}).to(torch::kBFloat16);
  const auto weights = torch::rand({tokens, k});
  const auto grad_out = torch::randn({tokens, hidden}).to(torch::kBFloat16);

  auto r64 = rows.to(torch::kFloat64).requires_grad_(true), w64 = weights.to(torch::kFloat64).requires_grad_(true);
  auto want = (r64.index_select(0, row_of_pair).view({tokens, k, hidden}) * w64.unsqueeze(-1)).sum(1);
  want.backward(grad_out.to(torch::kFloat64));

  auto rows_cuda = rows.to(kCuda).requires_grad_(true), weights_cuda = weights.to(kCuda).requires_grad_(true);
  const auto rp = row_of_pair.to(kCuda), pr = pair_of_row.to(kCuda);
  ASSERT_TRUE(fused_moe_combine_applies(rows_cuda, weights_cuda, rp, pr));
  auto got = fused_moe_combine(rows_cuda, weights_cuda, rp, pr);
  ASSERT_EQ(got.scalar_type(), torch::kBFloat16);
  got.backward(grad_out.to(kCuda));
  EXPECT_LT(relative_error(got.cpu(), want.detach()), 4e-3);  // one bf16 rounding of the sum
  EXPECT_LT(relative_error(rows_cuda.grad().cpu(), r64.grad()), 4e-3);
  EXPECT_LT(relative_error(weights_cuda.grad().cpu(), w64.grad()), 1e-5);  // float32 dots of bf16 values
  const auto padded = (pair_of_row == pairs).nonzero().squeeze(1);
  EXPECT_EQ(rows_cuda.grad().cpu().index_select(0, padded).abs().sum().item<float>(), 0.f);
  EXPECT_FALSE(fused_moe_combine_applies(rows_cuda.to(torch::kFloat32), weights_cuda, rp, pr));
}

}  // namespace
}  // namespace grpo::model
