// RoPE frequencies and rotation; see rope.h. The frequency formulas follow transformers'
// modeling_rope_utils (_compute_default/linear/llama3/yarn_parameters), computed in float32 like it.
#include "model/arch/rope.h"

#include <cmath>

namespace grpo::model {
namespace {

torch::Tensor default_inv_freq(double base, int64_t dim) {
  auto exponents = torch::arange(0, dim, 2, torch::kInt64).to(torch::kFloat32) / static_cast<double>(dim);
  return 1.0 / torch::pow(torch::scalar_tensor(base, torch::kFloat32), exponents);
}

torch::Tensor llama3_inv_freq(const RopeConfig& r, int64_t dim) {
  auto inv = default_inv_freq(r.theta, dim);
  const double old_len = static_cast<double>(r.original_max_position_embeddings);
  const double low_wavelen = old_len / r.low_freq_factor;
  const double high_wavelen = old_len / r.high_freq_factor;
  auto wavelen = 2.0 * M_PI / inv;
  auto scaled = torch::where(wavelen > low_wavelen, inv / r.factor, inv);
  auto smooth = (old_len / wavelen - r.low_freq_factor) / (r.high_freq_factor - r.low_freq_factor);
  auto smoothed = (1 - smooth) * scaled / r.factor + smooth * scaled;
  auto medium = (wavelen >= high_wavelen).logical_and(wavelen <= low_wavelen);
  return torch::where(medium, smoothed, scaled);
}

double yarn_mscale(double scale, double mscale) { return scale <= 1.0 ? 1.0 : 0.1 * mscale * std::log(scale) + 1.0; }

RopeFrequencies yarn(const RopeConfig& r, int64_t dim) {
  RopeFrequencies out;
  if (r.attention_factor) {
    out.attention_factor = *r.attention_factor;
  } else if (r.mscale.value_or(0.0) != 0.0 && r.mscale_all_dim.value_or(0.0) != 0.0) {
    out.attention_factor = yarn_mscale(r.factor, *r.mscale) / yarn_mscale(r.factor, *r.mscale_all_dim);
  } else {
    out.attention_factor = yarn_mscale(r.factor, 1.0);
  }
  const double orig = static_cast<double>(r.original_max_position_embeddings);
  auto correction_dim = [&](double rotations) {
    return dim * std::log(orig / (rotations * 2.0 * M_PI)) / (2.0 * std::log(r.theta));
  };
  double low = correction_dim(r.beta_fast), high = correction_dim(r.beta_slow);
  if (r.truncate) {
    low = std::floor(low);
    high = std::ceil(high);
  }
  low = std::max(low, 0.0);
  high = std::min(high, static_cast<double>(dim - 1));
  if (low == high) high += 0.001;  // avoids a division by zero in the ramp
  auto ramp = ((torch::arange(dim / 2, torch::kFloat32) - low) / (high - low)).clamp(0, 1);
  auto pos_freqs = torch::pow(torch::scalar_tensor(r.theta, torch::kFloat32),
                              torch::arange(0, dim, 2, torch::kInt64).to(torch::kFloat32) / static_cast<double>(dim));
  auto extrapolation = 1.0 / pos_freqs;
  auto interpolation = 1.0 / (r.factor * pos_freqs);
  auto extra_factor = 1 - ramp;
  out.inv_freq = interpolation * (1 - extra_factor) + extrapolation * extra_factor;
  return out;
}

}  // namespace

RopeFrequencies rope_frequencies(const ModelConfig& config) {
  const auto& r = config.rope;
  const int64_t dim = config.rope_dim();
  if (r.type == "yarn") return yarn(r, dim);
  RopeFrequencies out;
  if (r.type == "llama3") out.inv_freq = llama3_inv_freq(r, dim);
  else if (r.type == "linear") out.inv_freq = default_inv_freq(r.theta, dim) / r.factor;
  else out.inv_freq = default_inv_freq(r.theta, dim);
  return out;
}

std::pair<torch::Tensor, torch::Tensor> rope_cos_sin(const RopeFrequencies& freqs, const torch::Tensor& positions,
                                                     torch::Dtype dtype) {
  auto inv = freqs.inv_freq.to(positions.device());
  auto angles = positions.to(torch::kFloat32).unsqueeze(-1) * inv;  // [B, T, rope_dim/2]
  angles = torch::cat({angles, angles}, -1);                           // both halves of each pair
  auto cos = angles.cos(), sin = angles.sin();
  if (freqs.attention_factor != 1.0) {
    cos = cos * freqs.attention_factor;
    sin = sin * freqs.attention_factor;
  }
  sin.narrow(-1, 0, sin.size(-1) / 2).neg_();  // rotate_half's sign (see apply_rope)
  return {cos.unsqueeze(2).to(dtype), sin.unsqueeze(2).to(dtype)};
}

torch::Tensor apply_rope(const torch::Tensor& x, const torch::Tensor& cos, const torch::Tensor& signed_sin,
                         bool interleaved) {
  const int64_t rd = cos.size(-1);
  auto rot = rd == x.size(-1) ? x : x.narrow(-1, 0, rd);
  // Interleaved pairs (2j, 2j+1) are first gathered into halves, as transformers' V3 code does.
  if (interleaved) rot = rot.unflatten(-1, {rd / 2, 2}).transpose(-1, -2).flatten(-2);
  // rotate_half(x)·sin = [-x2, x1]·[s, s] = [x2, x1]·[-s, s]: the sign lives in the table, so the
  // rotation is one roll, and each product rounds as transformers' does.
  auto out = rot * cos + rot.roll(rd / 2, -1) * signed_sin;
  if (rd == x.size(-1)) return out;
  return torch::cat({out, x.narrow(-1, rd, x.size(-1) - rd)}, -1);
}

}  // namespace grpo::model
