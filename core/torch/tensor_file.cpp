// Tensor-list files for training state; see tensor_file.h.
#include "core/torch/tensor_file.h"

#include "core/error.h"

namespace grpo {

void write_tensor_list(const std::string& path, const std::vector<torch::Tensor>& tensors) {
  std::vector<torch::Tensor> cpu;
  for (const auto& t : tensors) cpu.push_back(t.detach().cpu());
  torch::save(cpu, path);
}

std::vector<torch::Tensor> read_tensor_list(const std::string& path, const std::string& what) {
  std::vector<torch::Tensor> tensors;
  try {
    torch::load(tensors, path);
  } catch (const c10::Error& e) {
    throw Error(SourceLocation{path, 0, 0}, "cannot read " + what + ": " + e.what_without_backtrace());
  }
  return tensors;
}

}  // namespace grpo
