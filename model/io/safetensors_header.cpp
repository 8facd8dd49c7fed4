// The safetensors header parser; see safetensors_header.h.
#include "model/io/safetensors_header.h"

#include <nlohmann/json.hpp>

#include <algorithm>

#include "core/error.h"
#include "core/text/json_parse.h"

namespace grpo::model {
namespace {

struct DtypeInfo {
  const char* name;
  size_t size;
};

constexpr DtypeInfo kDtypes[] = {
    {"BOOL", 1}, {"U8", 1},  {"I8", 1},  {"F8_E4M3", 1}, {"F8_E5M2", 1}, {"I16", 2}, {"U16", 2},
    {"F16", 2},  {"BF16", 2}, {"I32", 4}, {"U32", 4},     {"F32", 4},     {"F64", 8}, {"I64", 8},
    {"U64", 8},
};

// Multiplies with an overflow check: a hostile header must not wrap the size computation.
uint64_t checked_mul(uint64_t a, uint64_t b, const std::string& context) {
  if (a != 0 && b > UINT64_MAX / a) throw Error(context + ": shape overflows 64 bits");
  return a * b;
}

bool is_offset(const nlohmann::json& o) {
  return o.is_number_unsigned() || (o.is_number_integer() && o.get<int64_t>() >= 0);
}

TensorEntry parse_entry(const std::string& name, const nlohmann::json& value, uint64_t data_size,
                        uint64_t data_start, size_t file_size, const std::string& where) {
  const std::string ctx = where + "tensor '" + name + "'";
  if (!value.is_object() || !value.contains("dtype") || !value.contains("shape") || !value.contains("data_offsets") ||
      !value["dtype"].is_string() || !value["shape"].is_array() || !value["data_offsets"].is_array() ||
      value["data_offsets"].size() != 2)
    throw Error(ctx + ": expected {\"dtype\": str, \"shape\": [int], \"data_offsets\": [begin, end]}");
  TensorEntry e;
  e.name = name;
  e.dtype = value["dtype"].get<std::string>();
  uint64_t numel = 1;
  for (const auto& d : value["shape"]) {
    if (!d.is_number_integer() || d.get<int64_t>() < 0) throw Error(ctx + ": shape has a non-integer or negative dimension");
    e.shape.push_back(d.get<int64_t>());
    numel = checked_mul(numel, static_cast<uint64_t>(e.shape.back()), ctx);
  }
  const auto& offsets = value["data_offsets"];
  if (!is_offset(offsets[0]) || !is_offset(offsets[1])) throw Error(ctx + ": data_offsets must be non-negative integers");
  e.begin = offsets[0].get<uint64_t>();
  e.end = offsets[1].get<uint64_t>();
  size_t elem = 0;
  try {
    elem = safetensors_dtype_size(e.dtype);
  } catch (const Error& err) {
    throw Error(ctx + ": " + err.message());
  }
  const uint64_t nbytes = checked_mul(numel, elem, ctx);
  if (e.end < e.begin || e.end - e.begin != nbytes)
    throw Error(ctx + ": data_offsets [" + std::to_string(e.begin) + ", " + std::to_string(e.end) + ") hold " +
                (e.end < e.begin ? std::string("no") : std::to_string(e.end - e.begin)) + " bytes but shape x " +
                e.dtype + " needs " + std::to_string(nbytes));
  if (e.end > data_size)
    throw Error(ctx + ": data ends at byte offset " + std::to_string(data_start + e.end) + " but the file has " +
                std::to_string(file_size) + " bytes (truncated file)");
  return e;
}

// Two tensors sharing bytes would alias each other's views; safetensors' writer never makes
// such a file. Empty tensors hold no bytes and may sit anywhere in the data section.
void check_no_overlap(const std::vector<TensorEntry>& entries, const std::string& where) {
  std::vector<const TensorEntry*> by_begin;
  for (const auto& e : entries)
    if (e.end > e.begin) by_begin.push_back(&e);
  std::sort(by_begin.begin(), by_begin.end(),
            [](const TensorEntry* a, const TensorEntry* b) { return a->begin < b->begin; });
  for (size_t i = 1; i < by_begin.size(); ++i)
    if (by_begin[i]->begin < by_begin[i - 1]->end)
      throw Error(where + "tensors '" + by_begin[i - 1]->name + "' and '" + by_begin[i]->name +
                  "' overlap: data_offsets [" + std::to_string(by_begin[i - 1]->begin) + ", " +
                  std::to_string(by_begin[i - 1]->end) + ") and [" + std::to_string(by_begin[i]->begin) + ", " +
                  std::to_string(by_begin[i]->end) + ")");
}

}  // namespace

size_t safetensors_dtype_size(const std::string& dtype) {
  for (const auto& d : kDtypes)
    if (dtype == d.name) return d.size;
  throw Error("unknown safetensors dtype '" + dtype +
              "' (expected one of BOOL U8 I8 I16 U16 F16 BF16 I32 U32 F32 F64 I64 U64 F8_E4M3 F8_E5M2)");
}

SafetensorsHeader parse_safetensors_header(const uint8_t* bytes, size_t size, const std::string& source) {
  const std::string where = source + ": ";
  if (size < 8)
    throw Error(where + "truncated: " + std::to_string(size) +
                " bytes, a safetensors file needs at least the 8-byte header length");
  uint64_t header_len = 0;
  for (int i = 7; i >= 0; --i) header_len = (header_len << 8) | bytes[i];
  if (header_len > kMaxSafetensorsHeaderBytes)
    throw Error(where + "header length " + std::to_string(header_len) + " at byte offset 0 exceeds the limit of " +
                std::to_string(kMaxSafetensorsHeaderBytes) + " bytes (not a safetensors file?)");
  if (header_len > size - 8)
    throw Error(where + "header length " + std::to_string(header_len) + " at byte offset 0 exceeds the " +
                std::to_string(size - 8) + " bytes after it (truncated file or not safetensors)");
  SafetensorsHeader header;
  header.data_start = 8 + header_len;
  const uint64_t data_size = size - header.data_start;
  const auto* text = reinterpret_cast<const char*>(bytes + 8);
  const nlohmann::json json = parse_untrusted_json(text, text + header_len, source + " (header)", 8);
  if (!json.is_object()) throw Error(where + "header is not a JSON object");
  for (const auto& [name, value] : json.items()) {
    if (name == "__metadata__") {
      if (!value.is_object()) throw Error(where + "__metadata__ is not an object");
      for (const auto& [k, v] : value.items()) {
        if (!v.is_string()) throw Error(where + "__metadata__ value '" + k + "' is not a string");
        header.metadata[k] = v.get<std::string>();
      }
      continue;
    }
    header.entries.push_back(parse_entry(name, value, data_size, header.data_start, size, where));
  }
  check_no_overlap(header.entries, where);
  return header;
}

}  // namespace grpo::model
