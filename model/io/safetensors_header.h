// The safetensors header and tensor table, read from a file's bytes without LibTorch, so that
// the fuzz build (fuzz/model/safetensors_header_fuzz) runs the same parser as SafetensorsFile.
// A file is `u64 little-endian header length N`, N bytes of JSON ({name: {dtype, shape,
// data_offsets: [begin, end)}, "__metadata__": {str: str}}), then the data; offsets are
// relative to the end of the header. Nothing here trusts the header: lengths, shapes, sizes and
// byte ranges are checked against the file before anyone reads tensor bytes. It does not read
// tensor data or the sharded index (checkpoint.h).
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace grpo::model {

// The header length safetensors' own reader accepts at most: a JSON text this large already
// costs a multiple of itself to parse, and no real checkpoint's header comes near it.
constexpr uint64_t kMaxSafetensorsHeaderBytes = 100'000'000;

struct TensorEntry {
  std::string name;
  std::string dtype;            // as written in the file: "F32", "BF16", "I64", ...
  std::vector<int64_t> shape;
  uint64_t begin = 0;           // byte offsets relative to the start of the data section
  uint64_t end = 0;
};

struct SafetensorsHeader {
  uint64_t data_start = 0;                   // byte offset of the data section in the file
  std::vector<TensorEntry> entries;          // sorted by name
  std::map<std::string, std::string> metadata;
};

// Bytes per element of a safetensors dtype name; throws grpo::Error for an unknown name.
size_t safetensors_dtype_size(const std::string& dtype);

// Validates and returns the header of the file whose `size` bytes start at `bytes`: header
// length at most kMaxSafetensorsHeaderBytes and within the file, JSON well formed and at most
// kMaxJsonDepth deep, every entry's dtype known, shape non-negative with a byte size that does
// not overflow 64 bits and equals end - begin, every range inside the data section, and no two
// tensors sharing a byte. Errors are grpo::Error naming `source`, the tensor and the offset.
SafetensorsHeader parse_safetensors_header(const uint8_t* bytes, size_t size, const std::string& source);

}  // namespace grpo::model
