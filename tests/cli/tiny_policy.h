// The policy the CLI tests train through the `grpo` binary: a 2-layer Qwen2-shaped model with a
// 300-token byte-level BPE vocabulary trained on `corpus` (<|endoftext|>, id 0, ends a
// sequence), saved as a Hugging Face directory. Deterministic in its inputs. Test-only.
#pragma once

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "model/arch/config.h"
#include "model/io/model_io.h"
#include "model/tokenizer/bpe_trainer.h"

namespace grpo::testing {

inline void make_tiny_policy(const std::filesystem::path& dir, const std::vector<std::string>& corpus,
                             int64_t max_positions = 128) {
  std::filesystem::create_directories(dir);
  grpo::BpeTrainerOptions bo;
  bo.vocab_size = 300;
  grpo::write_byte_level_bpe((dir / "tokenizer.json").string(), corpus, bo);
  std::ofstream(dir / "tokenizer_config.json") << R"({"eos_token": "<|endoftext|>"})";
  const nlohmann::json cfg = {{"architectures", {"Qwen2ForCausalLM"}}, {"model_type", "qwen2"}, {"hidden_size", 32},
                              {"intermediate_size", 64}, {"num_hidden_layers", 2}, {"num_attention_heads", 2},
                              {"num_key_value_heads", 1}, {"max_position_embeddings", max_positions},
                              {"rms_norm_eps", 1e-6}, {"rope_theta", 10000.0}, {"tie_word_embeddings", true},
                              {"vocab_size", 300}, {"eos_token_id", 0}};
  grpo::model::CausalLM model(grpo::model::parse_model_config(cfg));
  grpo::model::init_weights(model, 3);
  grpo::model::SaveOptions so;
  so.source_dir = dir;
  grpo::model::save_model(model, dir, so);
}

}  // namespace grpo::testing
