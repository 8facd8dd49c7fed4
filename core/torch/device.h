// Device and dtype selection from config strings ("auto", "cpu", "cuda", "cuda:1";
// "float32", "bfloat16", "float16"), and CPU thread setup. Nothing model-specific.
#pragma once

#include <torch/torch.h>

#include <string>

namespace grpo {

// "auto" picks CUDA when LibTorch has it and a GPU is visible, else CPU.
torch::Device parse_device(const std::string& name);
// Accepts float32/fp32, bfloat16/bf16, float16/fp16/half. Throws grpo::Error naming the value.
torch::Dtype parse_dtype(const std::string& name);
std::string dtype_name(torch::Dtype dtype);
// LibTorch starts with one intra-op thread on some builds; set it explicitly (0 = all cores).
void set_cpu_threads(int threads);
// True when this binary was built with CUDA and a device is present.
bool cuda_available();
// A random generator on `device` (CPU or CUDA) seeded with `seed`: every random draw of a run
// flows from generators made here, so runs replay exactly.
at::Generator make_generator(const torch::Device& device, uint64_t seed);
// Peak memory in GiB: on CUDA the caching allocator's peak of allocated bytes since the last
// reset_peak_memory(); on CPU the process's maximum resident set size.
double peak_memory_gib(const torch::Device& device);
void reset_peak_memory(const torch::Device& device);
// "cpu", or "NVIDIA H100 80GB HBM3 (cuda:0)".
std::string describe_device(const torch::Device& device);

}  // namespace grpo
