// Argument checks with messages a caller can act on (see tensor_checks.h).
#include "rl/algorithms/tensor_checks.h"

#include "core/error.h"

namespace grpo::rl {

std::string shape_string(at::IntArrayRef sizes) {
  std::string out = "[";
  for (size_t i = 0; i < sizes.size(); ++i) out += (i ? ", " : "") + std::to_string(sizes[i]);
  return out + "]";
}

void require_defined(const torch::Tensor& tensor, const std::string& name) {
  require(tensor.defined(), name + ": tensor is required but was not given");
}

void require_rank(const torch::Tensor& tensor, int64_t rank, const std::string& name) {
  require_defined(tensor, name);
  require(tensor.dim() == rank, name + ": expected " + std::to_string(rank) + " dimensions, got shape " +
                                    shape_string(tensor.sizes()));
}

void require_shape(const torch::Tensor& tensor, at::IntArrayRef expected, const std::string& name) {
  require_defined(tensor, name);
  require(tensor.sizes() == expected,
          name + ": expected shape " + shape_string(expected) + ", got " + shape_string(tensor.sizes()));
}

void require_floating(const torch::Tensor& tensor, const std::string& name) {
  require_defined(tensor, name);
  require(tensor.is_floating_point(), name + ": expected a floating-point tensor, got " +
                                          std::string(c10::toString(tensor.scalar_type())));
}

}  // namespace grpo::rl
