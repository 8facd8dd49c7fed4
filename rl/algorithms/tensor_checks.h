// Argument checks for the algorithm and learner functions: a tensor that has the wrong rank,
// shape or dtype, or is missing, gets a grpo::Error naming the argument and what was expected,
// before any arithmetic broadcasts it into a silently wrong value. It checks shapes only; value
// checks (finite rewards, token ids in range) live with the functions that need them.
#pragma once

#include <torch/torch.h>

#include <string>
#include <vector>

namespace grpo::rl {

// "[4, 7]".
std::string shape_string(at::IntArrayRef sizes);

// Throws unless `tensor` is defined; `name` is the argument as documented ("old_logprobs").
void require_defined(const torch::Tensor& tensor, const std::string& name);

// Throws unless tensor.dim() == rank.
void require_rank(const torch::Tensor& tensor, int64_t rank, const std::string& name);

// Throws unless tensor.sizes() == expected.
void require_shape(const torch::Tensor& tensor, at::IntArrayRef expected, const std::string& name);

// Throws unless the dtype is floating point (float32, bfloat16, float16, float64).
void require_floating(const torch::Tensor& tensor, const std::string& name);

}  // namespace grpo::rl
