// A Hugging Face checkpoint directory as one tensor namespace: `model.safetensors`, or the shards
// named by `model.safetensors.index.json` (weight_map name -> file). The writer splits tensors
// into shards by size and writes the index. This is format plumbing only: which names a model
// expects, and their shapes, are checked by model_io.h against the architecture's tensor table.
#pragma once

#include <torch/torch.h>

#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "model/io/safetensors.h"

namespace grpo::model {

class CheckpointReader {
 public:
  // Opens `dir`: the index when present (every listed shard must exist and hold the tensors the
  // index assigns to it), otherwise model.safetensors. Errors name the file and the tensor.
  explicit CheckpointReader(const std::filesystem::path& dir);

  std::vector<std::string> names() const;  // sorted
  bool contains(const std::string& name) const { return where_.count(name) != 0; }
  const TensorEntry& entry(const std::string& name) const;
  // Zero-copy CPU view of the stored tensor (its stored dtype).
  torch::Tensor tensor(const std::string& name) const;
  const std::filesystem::path& dir() const { return dir_; }

 private:
  std::filesystem::path dir_;
  std::vector<std::shared_ptr<SafetensorsFile>> files_;
  std::map<std::string, size_t> where_;  // tensor name -> index into files_
};

inline constexpr uint64_t kDefaultShardBytes = 5ull << 30;  // transformers' default max_shard_size

// Writes `tensors` into `dir` as model.safetensors when they fit in one shard of
// `max_shard_bytes`, else as model-0000i-of-0000n.safetensors plus model.safetensors.index.json.
// Tensors keep their given order; a tensor larger than the limit gets a shard of its own.
// Removes stale model*.safetensors files and an old index from `dir` first.
void save_checkpoint(const std::filesystem::path& dir,
                     const std::vector<std::pair<std::string, torch::Tensor>>& tensors,
                     uint64_t max_shard_bytes = kDefaultShardBytes);

}  // namespace grpo::model
