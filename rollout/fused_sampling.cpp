// The LibTorch side of the one-pass CUDA sampler; see fused_sampling.h.
#include "rollout/fused_sampling.h"

#include <ATen/cuda/CUDAContext.h>
#include <c10/cuda/CUDAGuard.h>

#include <limits>

#include "core/cuda/launch_check.h"
#include "core/error.h"
#include "rollout/fused_sampling_kernel.h"

namespace grpo::rollout {

bool fused_sampling_applies(const torch::Tensor& logits, const SamplingBatch& batch) {
  const auto dtype = logits.scalar_type();
  return logits.is_cuda() && logits.dim() == 2 && (dtype == torch::kFloat32 || dtype == torch::kBFloat16) &&
         logits.stride(1) == 1 && logits.size(1) <= std::numeric_limits<int>::max() && !batch.any_top_k &&
         !batch.any_top_p && !batch.any_min_p;
}

SampledTokens fused_sample_next_tokens(const torch::Tensor& logits, const SamplingBatch& batch,
                                       at::Generator& generator) {
  require(fused_sampling_applies(logits, batch), "fused sampling: expected [B, V] float32 or bfloat16 CUDA logits "
                                                 "with unit column stride and no top-k/top-p/min-p");
  const c10::cuda::CUDAGuard guard(logits.device());
  const int rows = static_cast<int>(logits.size(0)), vocab = static_cast<int>(logits.size(1));
  const auto int64 = logits.options().dtype(torch::kInt64);
  // The Philox key and counter word of this call, drawn from the caller's generator on the
  // device: the generator's state advances as with any other draw, and nothing syncs.
  const auto key = torch::randint(0, std::numeric_limits<int64_t>::max(), {2}, generator, int64);
  const int splits = kernels::sample_splits(rows, vocab, at::cuda::getCurrentDeviceProperties()->multiProcessorCount);
  const auto workspace = torch::empty({static_cast<int64_t>(kernels::sample_workspace_bytes(rows, splits))},
                                      logits.options().dtype(torch::kUInt8));
  SampledTokens out{torch::empty({rows}, int64), torch::empty({rows}, logits.options().dtype(torch::kFloat32))};
  const auto temperature = batch.temperature.to(torch::kFloat32).contiguous();
  const auto greedy = batch.greedy.contiguous();
  if (temperature.numel() != rows || greedy.numel() != rows)
    throw Error("fused sampling: the sampling batch has " + std::to_string(temperature.numel()) + " rows, the logits " +
                std::to_string(rows));

  kernels::SampleArgs args;
  args.logits = logits.data_ptr();
  args.type = logits.scalar_type() == torch::kBFloat16 ? kernels::LogitType::kBFloat16 : kernels::LogitType::kFloat32;
  args.row_stride = logits.stride(0);
  args.rows = rows;
  args.vocab = vocab;
  args.temperature = temperature.data_ptr<float>();
  args.greedy = greedy.data_ptr<bool>();
  args.key = key.data_ptr<int64_t>();
  args.workspace = workspace.data_ptr();
  args.splits = splits;
  args.tokens = out.tokens.data_ptr<int64_t>();
  args.logprobs = out.logprobs.data_ptr<float>();
  cuda::check_launch(kernels::launch_sample(args, at::cuda::getCurrentCUDAStream()), "fused sampling");
  return out;
}

}  // namespace grpo::rollout
