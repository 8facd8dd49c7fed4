// Model shapes the benchmarks share, and what one decode step of such a model must read.
// qwen05 and moe-mla are the exact configs of .shared/baselines/hf_baselines.py (QWEN05:
// Qwen2.5-0.5B; MOE_MLA: the DeepSeek-V3-style MoE/MLA 1B shape), so numbers sit beside its
// baselines; qwen7b is Qwen2.5-7B's config (the single-GPU LoRA step); tiny is a two-layer
// MoE/MLA model for CPU smoke runs. Not here: workloads (batch, lengths), which each benchmark
// chooses.
#pragma once

#include <nlohmann/json.hpp>

#include <torch/torch.h>

#include <cstdint>
#include <string>

#include "model/arch/transformer.h"

namespace grpo::bench {

// config.json of the named shape (qwen05, qwen7b, moe-mla, tiny); another name is a grpo::Error
// that lists these.
nlohmann::json shape_config(const std::string& shape);

// The shape's model with model::init_weights(seed) values, on `device` in `dtype` (the V3 router
// bias in float32, as cast_model keeps it), in eval mode. Built in `dtype` from the start, so a
// 7B model in bf16 never holds a float32 copy (30 GB) on the host: its parameters are the float32
// build's rounded to `dtype`, as init_weights draws every tensor in float32 and copies it in.
model::CausalLM random_model(const std::string& shape, const torch::Device& device, torch::Dtype dtype, uint64_t seed);

// Bytes of weights one decode step of `batch` sequences reads: every parameter once, except an
// untied input embedding, of which only the batch's rows are read. MoE experts are all counted:
// with tens of tokens choosing several experts each, nearly every expert is hit every step.
int64_t weight_bytes_per_decode_step(model::CausalLM& m, int64_t batch);

}  // namespace grpo::bench
