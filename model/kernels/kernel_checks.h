// Input checks and shape helpers shared by the LibTorch wrappers of model/'s CUDA kernels (CUDA
// builds only).
#pragma once

#include <torch/torch.h>

#include <algorithm>
#include <string>

#include "core/error.h"

namespace grpo::model::kernel_checks {

inline bool bf16_on(const torch::Tensor& t, const torch::Device& device) {
  return t.is_cuda() && t.device() == device && t.scalar_type() == torch::kBFloat16;
}

// Rows of 8 bf16 (16 bytes) start aligned along the first `dims` dims: the kernels read rows with
// 16-byte loads.
inline bool rows_aligned(const torch::Tensor& t, int64_t dims) {
  for (int64_t d = 0; d < dims; ++d)
    if (t.stride(d) % 8 != 0) return false;
  return reinterpret_cast<uintptr_t>(t.data_ptr()) % 16 == 0;
}

// Rows of a [..., width] tensor whose kernel reads it as [rows, width] (0 for width 0).
inline int64_t rows_of(const torch::Tensor& t) { return t.numel() / std::max<int64_t>(t.size(-1), 1); }

// A decode step's cache slots [B] and write rows ([B] or [B, 1]) as the kernels take them: the
// write rows as [B], both checked to be int64 with one value per row.
inline torch::Tensor write_rows(const torch::Tensor& slots, const torch::Tensor& rows, int64_t batch,
                                const std::string& kernel) {
  const auto flat = rows.dim() == 2 ? rows.select(1, 0) : rows;
  require(slots.scalar_type() == torch::kInt64 && slots.is_contiguous() && slots.numel() == batch &&
              flat.scalar_type() == torch::kInt64 && flat.numel() == batch,
          kernel + ": slots and write rows must be [B] int64");
  return flat;
}

}  // namespace grpo::model::kernel_checks
