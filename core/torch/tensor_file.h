// A list of tensors in one file (LibTorch's own archive format), for training state that is not
// a model: optimizer moments, float32 master weights. Models go to safetensors (model/).
#pragma once

#include <torch/torch.h>

#include <string>
#include <vector>

namespace grpo {

// Writes CPU copies of `tensors` to `path`.
void write_tensor_list(const std::string& path, const std::vector<torch::Tensor>& tensors);

// Reads them back; a missing or unreadable file is a grpo::Error naming `path` and `what` it
// should have held (e.g. "optimizer state").
std::vector<torch::Tensor> read_tensor_list(const std::string& path, const std::string& what);

}  // namespace grpo
