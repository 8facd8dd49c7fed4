// Activation checkpointing: run a function of one tensor without keeping its intermediate
// activations, and recompute them during backward. LibTorch has no torch.utils.checkpoint; this
// is a custom torch::autograd::Function in the reentrant style: forward runs `fn` with autograd
// off and saves only the input; backward reruns `fn` with autograd on and back-propagates
// through the recomputation, which accumulates the parameters' gradients and yields the input's.
// `fn` must be deterministic (no dropout here, so no RNG state is stashed) and must not mutate
// state on the recompute (the `recompute` flag it receives lets it skip statistics).
#pragma once

#include <torch/torch.h>

#include <functional>
#include <vector>

namespace grpo::model {

using CheckpointedFn = std::function<std::vector<torch::Tensor>(const torch::Tensor& input, bool recompute)>;

// Returns fn(input, false)'s outputs (all must be floating tensors), with gradients flowing to
// `input` and to every parameter `fn` uses, also when `input` itself needs none (a frozen
// embedding below trainable layers).
std::vector<torch::Tensor> checkpoint(const CheckpointedFn& fn, const torch::Tensor& input);

}  // namespace grpo::model
