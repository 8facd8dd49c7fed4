// `grpo model import FILE.gguf OUT_DIR`: a GGUF file (llama or qwen2) as a Hugging Face directory
// that transformers and grpo.cpp both load: config.json, generation_config.json,
// model.safetensors (float32, or bfloat16 on request), tokenizer.json and tokenizer_config.json
// (from the tokenizer metadata, through gguf_tokenizer.h). The tensors are dequantized as gguf-py
// does (gguf_dequantize.h) and llama's Q/K rows are permuted back (gguf_hf_mapping.h). Nothing is
// half-written: the directory is built under a hidden sibling name and renamed into place only
// when complete; an existing OUT_DIR is an error unless `force`. It does not quantize, shard or
// keep the GGUF's quantization.
#pragma once

#include <torch/torch.h>

#include <filesystem>

#include "model/arch/config.h"
#include "model/gguf/gguf_file.h"

namespace grpo::model::gguf {

struct ImportOptions {
  torch::Dtype dtype = torch::kFloat32;  // float32 or bfloat16
  bool force = false;                    // replace an existing output directory
};

struct ImportResult {
  ModelConfig config;
  int64_t tensors = 0;     // tensors written
  int64_t parameters = 0;  // their elements
};

ImportResult import_gguf(const std::filesystem::path& gguf_path, const std::filesystem::path& out_dir,
                         const ImportOptions& options = {});

// The tensor's values as gguf-py's dequantize gives them: float32 in the PyTorch shape (the GGUF
// dims reversed). Throws naming the file and tensor for a type that cannot be dequantized.
torch::Tensor dequantize_tensor(const GgufFile& file, const GgufTensor& tensor);

}  // namespace grpo::model::gguf
