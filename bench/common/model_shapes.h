// Model shapes the benchmarks share, and what one decode step of such a model must read.
// qwen05 and moe-mla are the exact configs of .shared/baselines/hf_baselines.py (QWEN05:
// Qwen2.5-0.5B; MOE_MLA: the DeepSeek-V3-style MoE/MLA 1B shape), so numbers sit beside its
// baselines; tiny is a two-layer MoE/MLA model for CPU smoke runs. Not here: workloads (batch,
// lengths), which each benchmark chooses.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>

#include "model/arch/transformer.h"

namespace grpo::bench {

// config.json of the named shape (qwen05, moe-mla, tiny); another name is a grpo::Error that
// lists these.
nlohmann::json shape_config(const std::string& shape);

// Bytes of weights one decode step of `batch` sequences reads: every parameter once, except an
// untied input embedding, of which only the batch's rows are read. MoE experts are all counted:
// with tens of tokens choosing several experts each, nearly every expert is hit every step.
int64_t weight_bytes_per_decode_step(model::CausalLM& m, int64_t batch);

}  // namespace grpo::bench
