// Safetensors files: a memory-mapped reader that validates the header before trusting it
// (safetensors_header.h, the LibTorch-free parser), and a writer. The reader hands out zero-copy
// tensor views of the mapping (copy-on-write, so writing to them never touches the file). It
// does not dequantize FP8 blocks and does not handle the sharded index (see checkpoint.h).
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "model/io/safetensors_header.h"

namespace grpo::model {

// The LibTorch dtype of a safetensors dtype; throws naming the tensor when LibTorch lacks it.
torch::Dtype safetensors_to_torch(const std::string& dtype, const std::string& tensor_name);
// The safetensors name of a LibTorch dtype ("F32" for kFloat32, ...).
std::string torch_to_safetensors(torch::Dtype dtype);

class SafetensorsFile {
 public:
  // Maps `path` and validates the header (parse_safetensors_header). Errors name the file, the
  // tensor and the byte offset.
  static std::shared_ptr<SafetensorsFile> open(const std::filesystem::path& path);
  ~SafetensorsFile();
  SafetensorsFile(const SafetensorsFile&) = delete;
  SafetensorsFile& operator=(const SafetensorsFile&) = delete;

  const std::filesystem::path& path() const { return path_; }
  const std::vector<TensorEntry>& entries() const { return entries_; }
  const std::map<std::string, std::string>& metadata() const { return metadata_; }
  const TensorEntry* find(const std::string& name) const;
  bool contains(const std::string& name) const { return find(name) != nullptr; }
  // A CPU tensor viewing the mapped bytes (kept alive by the tensor). Throws naming the tensor
  // when it is absent. Unaligned data is copied so the result is always usable.
  torch::Tensor tensor(const std::string& name) const;

 private:
  SafetensorsFile() = default;

  std::filesystem::path path_;
  uint8_t* base_ = nullptr;
  size_t size_ = 0;
  uint64_t data_start_ = 0;
  std::vector<TensorEntry> entries_;
  std::map<std::string, size_t> index_;
  std::map<std::string, std::string> metadata_;
  std::weak_ptr<SafetensorsFile> self_;
};

// Writes `tensors` (any device/dtype; written as they are, contiguous, little-endian) to `path`
// atomically (temporary file + rename). Names must be unique.
void save_safetensors(const std::filesystem::path& path,
                      const std::vector<std::pair<std::string, torch::Tensor>>& tensors,
                      const std::map<std::string, std::string>& metadata = {{"format", "pt"}});

}  // namespace grpo::model
