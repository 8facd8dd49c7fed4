// A GGUF file (llama.cpp's format, versions 2 and 3), memory-mapped read-only and validated
// before anything is trusted: magic "GGUF", u32 version, u64 tensor count, u64 metadata count,
// the metadata key/values, the tensor infos, then the data section at the next multiple of
// `general.alignment` (default 32). Every length and count is checked against the bytes left in
// the file before anything is allocated for it, size arithmetic is overflow-checked, and every
// tensor must be a known ggml type whose bytes lie inside the file at an aligned offset. Errors
// name the file and what was expected. Little-endian files on a little-endian host only; it does
// not read version 1 (32-bit counts), nested arrays (llama.cpp rejects them too) or big-endian
// files, and it knows nothing about architectures (see gguf_hf_mapping.h).
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "model/gguf/gguf_dequantize.h"

namespace grpo::model::gguf {

enum class GgufValueType : uint32_t {
  kU8 = 0, kI8 = 1, kU16 = 2, kI16 = 3, kU32 = 4, kI32 = 5, kF32 = 6, kBool = 7,
  kString = 8, kArray = 9, kU64 = 10, kI64 = 11, kF64 = 12,
};

const char* value_type_name(GgufValueType type);  // "u32", "string", "array", ...

struct GgufValue {
  GgufValueType type = GgufValueType::kU8;
  GgufValueType element_type = GgufValueType::kU8;  // arrays only
  uint64_t count = 1;                 // elements (arrays), 1 for a scalar
  std::vector<uint8_t> bytes;         // numeric and bool scalars or arrays, as stored
  std::vector<std::string> strings;   // a string (one entry) or an array of strings
};

struct GgufTensor {
  std::string name;
  std::vector<int64_t> dims;  // ggml order: dims[0] is the innermost (contiguous) dimension
  const GgmlType* type = nullptr;
  uint64_t offset = 0;  // absolute byte offset in the file
  uint64_t nbytes = 0;
  int64_t numel = 0;

  // The PyTorch shape: dims reversed.
  std::vector<int64_t> shape() const { return {dims.rbegin(), dims.rend()}; }
};

class GgufFile {
 public:
  // Maps and validates `path`; throws grpo::Error naming the file and the problem.
  static std::shared_ptr<GgufFile> open(const std::filesystem::path& path);
  // Validates GGUF bytes held in memory (kept by the returned file); `name` stands for the file
  // in errors. The fuzz target reads through this: a sanitizer sees every read of a heap buffer,
  // none of a mapping.
  static std::shared_ptr<GgufFile> from_bytes(std::vector<uint8_t> bytes, const std::string& name);
  ~GgufFile();
  GgufFile(const GgufFile&) = delete;
  GgufFile& operator=(const GgufFile&) = delete;

  const std::filesystem::path& path() const { return path_; }
  uint32_t version() const { return version_; }
  uint64_t alignment() const { return alignment_; }
  const std::map<std::string, GgufValue>& metadata() const { return metadata_; }
  const std::vector<GgufTensor>& tensors() const { return tensors_; }
  const GgufTensor* find_tensor(const std::string& name) const;
  // The tensor's bytes inside the mapping (valid while this file lives).
  const uint8_t* data(const GgufTensor& tensor) const { return base_ + tensor.offset; }

  // Typed metadata. Each returns nullopt (or an empty vector) when the key is absent and throws
  // naming the file, the key and both types when it holds another type. integer() accepts every
  // integer type and checks the value fits int64; number() accepts floats and integers.
  const GgufValue* find(const std::string& key) const;
  std::optional<int64_t> integer(const std::string& key) const;
  std::optional<double> number(const std::string& key) const;
  std::optional<bool> boolean(const std::string& key) const;
  std::optional<std::string> string(const std::string& key) const;
  std::vector<std::string> string_array(const std::string& key) const;
  std::vector<float> float_array(const std::string& key) const;    // f32 elements
  std::vector<int32_t> int32_array(const std::string& key) const;  // i32 elements
  // As integer()/string(), but a missing key is an error naming it.
  int64_t required_integer(const std::string& key) const;
  std::string required_string(const std::string& key) const;

 private:
  GgufFile() = default;
  void parse();
  const GgufValue* typed(const std::string& key, GgufValueType type, GgufValueType element) const;

  std::filesystem::path path_;
  uint8_t* base_ = nullptr;
  uint64_t size_ = 0;
  bool mapped_ = false;         // base_ is an mmap (open) rather than owned_ (from_bytes)
  std::vector<uint8_t> owned_;
  uint32_t version_ = 0;
  uint64_t alignment_ = 32;  // GGUF_DEFAULT_ALIGNMENT, when general.alignment is absent
  std::map<std::string, GgufValue> metadata_;
  std::vector<GgufTensor> tensors_;
  std::map<std::string, size_t> tensor_index_;
};

}  // namespace grpo::model::gguf
