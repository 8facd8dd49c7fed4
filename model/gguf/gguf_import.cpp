// GGUF -> Hugging Face directory; see gguf_import.h. Everything that can fail on the input (the
// file, its config, its tensor set, its tokenizer) is checked before the first byte is written;
// the directory itself is written under a temporary sibling and renamed into place.
#include "model/gguf/gguf_import.h"

#include <unistd.h>

#include <fstream>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/filesystem.h"
#include "model/io/checkpoint.h"
#include "model/gguf/gguf_dequantize.h"
#include "model/gguf/gguf_hf_mapping.h"
#include "model/gguf/gguf_tokenizer.h"

namespace grpo::model::gguf {
namespace fs = std::filesystem;
namespace {

using json = nlohmann::json;

std::string dtype_name(torch::Dtype dtype) {
  if (dtype == torch::kFloat32) return "float32";
  if (dtype == torch::kBFloat16) return "bfloat16";
  throw Error(std::string("GGUF import writes float32 or bfloat16, not ") + c10::toString(dtype));
}

void write_text(const fs::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
  out.close();
  if (!out) throw Error(path.string() + ": write failed");
}

// generation_config.json: the ids that end a turn decide when transformers stops.
json generation_config(const ModelConfig& config, const TokenizerFiles& tokenizer, const GgufVocab& vocab) {
  json gen;
  gen["bos_token_id"] = config.bos_token_id ? json(*config.bos_token_id) : json(nullptr);
  std::vector<int64_t> eos = tokenizer.end_of_turn_ids;
  if (eos.empty()) eos = config.eos_token_ids;
  if (eos.size() == 1) gen["eos_token_id"] = eos[0];
  else if (eos.empty()) gen["eos_token_id"] = nullptr;
  else gen["eos_token_id"] = eos;
  if (vocab.pad_id) gen["pad_token_id"] = *vocab.pad_id;
  return gen;
}

// `out` with any trailing separator removed, so that its parent and name are the real ones.
fs::path normalized(const fs::path& out) {
  fs::path p = out.lexically_normal();
  if (p.filename().empty()) p = p.parent_path();
  return p;
}

fs::path sibling(const fs::path& out, const std::string& tag) {
  return out.parent_path() / ("." + out.filename().string() + "." + tag + "-" + std::to_string(::getpid()));
}

}  // namespace

torch::Tensor dequantize_tensor(const GgufFile& file, const GgufTensor& tensor) {
  if (!tensor.type->dequantizable)
    throw Error(file.path().string() + ": tensor '" + tensor.name + "' has type " + tensor.type->name + " (" +
                std::to_string(tensor.type->id) + "), which grpo.cpp cannot dequantize (supported: " +
                dequantizable_type_names() + ")");
  auto out = torch::empty(tensor.shape(), torch::TensorOptions().dtype(torch::kFloat32));
  dequantize(*tensor.type, file.data(tensor), tensor.numel, out.data_ptr<float>());
  return out;
}

ImportResult import_gguf(const fs::path& gguf_path, const fs::path& out_dir, const ImportOptions& options) {
  const fs::path out = normalized(out_dir);
  if (out.empty()) throw Error("model import: the output directory name is empty");
  if (fs::exists(out) && !options.force)
    throw Error(out.string() + ": already exists (pass --force to replace it)");
  const auto file = GgufFile::open(gguf_path);
  const std::string source = file->path().string();
  ImportResult result;
  const auto config_json = hf_config_json(*file, dtype_name(options.dtype));
  result.config = parse_model_config(config_json, source);
  const GgufVocab vocab = vocab_from_gguf(*file);
  if (static_cast<int64_t>(vocab.tokens.size()) > result.config.vocab_size)
    throw Error(source + ": the tokenizer has " + std::to_string(vocab.tokens.size()) +
                " tokens but the model's vocabulary is " + std::to_string(result.config.vocab_size));
  const TokenizerFiles tokenizer = tokenizer_files_from_gguf(vocab, source);
  const auto sources = hf_tensor_sources(*file, result.config);
  for (const auto& s : sources)
    if (!s.tensor->type->dequantizable) dequantize_tensor(*file, *s.tensor);  // throws naming it

  if (!out.parent_path().empty()) fs::create_directories(out.parent_path());
  const fs::path staging = sibling(out, "importing");
  try_remove_tree(staging);
  try {
    fs::create_directory(staging);
    std::vector<std::pair<std::string, torch::Tensor>> tensors;
    for (const auto& s : sources) {
      auto values = dequantize_tensor(*file, *s.tensor);
      if (s.rope_heads > 0) values = undo_rope_permutation(values, s.rope_heads);
      result.parameters += values.numel();
      tensors.emplace_back(s.hf_name, values.to(options.dtype));
    }
    result.tensors = static_cast<int64_t>(tensors.size());
    save_checkpoint(staging, tensors);
    tensors.clear();
    write_text(staging / "config.json", model_config_to_json(result.config).dump(2) + "\n");
    write_text(staging / "generation_config.json", generation_config(result.config, tokenizer, vocab).dump(2) + "\n");
    write_text(staging / "tokenizer.json", tokenizer.tokenizer_json);
    write_text(staging / "tokenizer_config.json", tokenizer.tokenizer_config_json);
    if (fs::exists(out)) {
      const fs::path replaced = sibling(out, "replaced");
      try_remove_tree(replaced);
      fs::rename(out, replaced);
      fs::rename(staging, out);
      remove_tree(replaced);
    } else {
      fs::rename(staging, out);
    }
  } catch (...) {
    try_remove_tree(staging);
    throw;
  }
  return result;
}

}  // namespace grpo::model::gguf
