// The one-pass sampling kernel behind fused_sampling.h, with a plain-C++ interface (no LibTorch
// types) so that nvcc compiles it without the LibTorch headers.
//
// For each row it reads the logits once and computes, in float32: the maximum and the sum of
// exp(z/T - max) (so log softmax(z/T) of any token), and the winner of the exponential race
// argmax_i (z_i/T - log E_i), E_i ~ Exp(1) i.i.d., which draws i with probability softmax(z/T)_i;
// greedy rows take argmax_i z_i instead (first index on ties, like torch.argmax). The E_i come
// from Philox-4x32-10 keyed by key[0], with the counter (column / 4, row, key[1]): a function of
// the key, the row and the column only, so the draws do not depend on how rows are split across
// blocks. Rows are split into at most 32 column ranges whose partial results a second kernel
// merges, so that a few long rows still fill the GPU.
#pragma once

#include <cuda_runtime_api.h>

#include <cstddef>
#include <cstdint>

namespace grpo::rollout::kernels {

enum class LogitType { kFloat32, kBFloat16 };

struct SampleArgs {
  const void* logits = nullptr;  // [rows, row_stride] of `type`; the first `vocab` columns are read
  LogitType type = LogitType::kFloat32;
  int64_t row_stride = 0;
  int rows = 0;
  int vocab = 0;
  const float* temperature = nullptr;  // [rows]; greedy rows hold 1
  const bool* greedy = nullptr;        // [rows]
  const int64_t* key = nullptr;        // [2] on the device: Philox key and counter high word
  void* workspace = nullptr;           // sample_workspace_bytes(rows, splits)
  int splits = 1;                      // from sample_splits
  int64_t* tokens = nullptr;           // [rows] out
  float* logprobs = nullptr;           // [rows] out: log softmax(z/T) of the chosen token
};

// Column ranges per row: enough blocks for two per multiprocessor, at most 32, none shorter
// than 2048 columns.
int sample_splits(int rows, int vocab, int multiprocessors);
size_t sample_workspace_bytes(int rows, int splits);
cudaError_t launch_sample(const SampleArgs& args, cudaStream_t stream);

}  // namespace grpo::rollout::kernels
