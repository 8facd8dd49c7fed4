// Parameter gradients added where they are kept, by the backward that computes them.
// MasterWeights makes every trainable parameter's gradient a view of one flat buffer, and
// autograd adds each gradient a backward returns into it (AccumulateGrad): a [out, in] temporary
// plus one more pass that reads it and the buffer and writes the buffer, per weight and step.
// A custom backward calls these instead: the weight gradient's GEMM adds into param.grad() in
// its epilogue (beta = 1) and autograd receives an undefined gradient, so AccumulateGrad has
// nothing to do. Where the parameter has no gradient buffer (a model outside MasterWeights) or
// a double backward is recording a graph, they return the gradient for autograd to accumulate,
// as an ordinary backward would. Nothing here may be used by torch::autograd::grad(), which
// returns gradients instead of accumulating them; no code in grpo.cpp calls it.
#pragma once

#include <torch/torch.h>

namespace grpo {

// The gradient a·b of the matrix `param` (a: [out, k], b: [k, in]).
torch::Tensor accumulate_matmul_gradient(const torch::Tensor& param, const torch::Tensor& a, const torch::Tensor& b);

// A gradient already computed (a bias's sum over rows), of param's shape.
torch::Tensor accumulate_gradient(const torch::Tensor& param, const torch::Tensor& gradient);

}  // namespace grpo
