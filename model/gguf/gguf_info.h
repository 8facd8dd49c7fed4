// What `grpo model info FILE.gguf` reports about a GGUF file without dequantizing anything: the
// format version, the architecture, how many tensors of each ggml type it holds and their
// elements, and the ModelConfig its metadata describes (for describe_model's parameter and
// cache accounting, as for a Hugging Face directory).
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "model/arch/config.h"
#include "model/gguf/gguf_file.h"

namespace grpo::model::gguf {

struct GgufSummary {
  uint32_t version = 0;
  std::string architecture;                       // general.architecture
  std::string name;                               // general.name ("" when absent)
  std::map<std::string, int64_t> tensors_per_type;  // ggml type name -> tensor count
  int64_t tensor_count = 0;
  int64_t parameters = 0;                         // elements of every tensor in the file
  ModelConfig config;                             // as model_config_from_gguf
};

// Throws naming the file for an unsupported architecture or missing hyper-parameters.
GgufSummary summarize_gguf(const GgufFile& file);
std::string format_gguf_summary(const GgufSummary& summary);  // several lines

}  // namespace grpo::model::gguf
