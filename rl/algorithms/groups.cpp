// Row ↔ group arithmetic and the zero-variance predicate; see groups.h.
#include "rl/algorithms/groups.h"

#include "core/error.h"
#include "rl/algorithms/tensor_checks.h"

namespace grpo::rl {

Groups::Groups(int64_t rows, int64_t size, const std::string& what) : rows_(rows), size_(size) {
  require(size >= 2, "group_size: expected at least 2 completions per prompt, got " + std::to_string(size));
  require(rows > 0 && rows % size == 0,
          what + ": " + std::to_string(rows) + " rows do not divide into groups of " + std::to_string(size));
}

torch::Tensor Groups::by_group(const torch::Tensor& per_row) const {
  require_shape(per_row, {rows_}, "per-row values");
  return per_row.reshape({count(), size_});
}

torch::Tensor Groups::zero_variance(const torch::Tensor& values) const {
  const auto grouped = by_group(values);
  return std::get<0>(grouped.max(1)) == std::get<0>(grouped.min(1));
}

}  // namespace grpo::rl
