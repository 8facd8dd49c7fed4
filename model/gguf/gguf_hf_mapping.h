// What a GGUF file means in Hugging Face terms, for the architectures grpo.cpp imports (llama and
// qwen2): config.json from the `{arch}.*` and `tokenizer.ggml.*` metadata, each GGUF tensor's
// Hugging Face name (token_embd -> model.embed_tokens, blk.N.attn_q -> model.layers.N.self_attn
// .q_proj, ...), checked against the architecture's tensor table, and the tokenizer metadata as a
// GgufVocab. It follows transformers' GGUF loader (integrations/ggml.py,
// modeling_gguf_pytorch_utils.py) and llama.cpp's converter: llama's Q and K rows were permuted
// by llama.cpp for its RoPE layout and are permuted back (weights and biases, q over the
// attention heads, k over the KV heads); qwen2's were never permuted. It does not read tensor
// data (gguf_import.h does) and supports no RoPE frequency tensor (llama 3.1's rope_freqs).
#pragma once

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <string>
#include <vector>

#include "model/arch/config.h"
#include "model/gguf/gguf_file.h"
#include "model/gguf/gguf_tokenizer.h"

namespace grpo::model::gguf {

// config.json for the file, with `torch_dtype` set to `dtype_name` ("float32", "bfloat16").
// Throws naming the file for an unsupported architecture (listing the supported ones), a missing
// hyper-parameter key, or RoPE settings grpo.cpp cannot run.
nlohmann::json hf_config_json(const GgufFile& file, const std::string& dtype_name = "float32");
ModelConfig model_config_from_gguf(const GgufFile& file);

struct HfTensorSource {
  std::string hf_name;              // e.g. "model.layers.3.self_attn.q_proj.weight"
  const GgufTensor* tensor = nullptr;
  int64_t rope_heads = 0;           // > 0: undo llama.cpp's Q/K row permutation over this many heads
};

// One source per entry of tensor_table(config), in its order. Throws naming the file and tensor
// for a GGUF tensor with no Hugging Face counterpart, a missing tensor, or a shape mismatch.
std::vector<HfTensorSource> hf_tensor_sources(const GgufFile& file, const ModelConfig& config);

// Inverse of llama.cpp's permute(): within each of `heads` blocks of rows, row 2i + j moves to
// row j * (head_dim / 2) + i (transformers' reverse_permute_weights).
// w: [heads * head_dim] or [heads * head_dim, in], any dtype; returns a new contiguous tensor.
torch::Tensor undo_rope_permutation(const torch::Tensor& w, int64_t heads);

// The tokenizer.ggml.* metadata. Throws naming the file when there is no vocabulary.
GgufVocab vocab_from_gguf(const GgufFile& file);

}  // namespace grpo::model::gguf
