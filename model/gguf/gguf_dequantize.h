// ggml's tensor types as GGUF stores them: the table of every type id ggml defines (name, elements
// per block, bytes per block), so the reader can check any tensor's size, and float32
// dequantization of the block formats grpo.cpp imports: F32, F16, BF16, Q4_0, Q4_1, Q5_0, Q5_1,
// Q8_0, Q4_K, Q5_K and Q6_K. The arithmetic is that of gguf-py's `gguf.quants.dequantize`
// (0.19.0), which transformers' GGUF loader calls: scales widen from float16 to float32 first and
// every product and sum is a separate float32 operation in the same order, so the results are
// bit-equal (this file is compiled with -ffp-contract=off so that no fused multiply-add creeps
// in). It does not dequantize the i-quants, Q2_K/Q3_K, Q8_1/Q8_K, the ternary or FP4 types, and
// it does not quantize.
#pragma once

#include <cstdint>
#include <string>

namespace grpo::model::gguf {

struct GgmlType {
  uint32_t id;          // ggml_type value as stored in the file
  const char* name;     // "Q4_K"
  uint32_t block_size;  // elements per block (1 for plain floats)
  uint32_t type_size;   // bytes per block
  bool dequantizable;   // whether dequantize() handles it
};

// The type with this id, or nullptr when ggml defines no such type.
const GgmlType* find_ggml_type(uint32_t id);
// "F32, F16, BF16, Q8_0, ..." — the types dequantize() handles, for error messages.
std::string dequantizable_type_names();

// Widens an IEEE binary16 value bit-exactly (subnormals, infinities and NaN payloads kept).
float half_to_float(uint16_t bits);

// Dequantizes `n_elements` values of `type` (a multiple of its block size) from `src`
// (n_elements / block_size * type_size bytes, little-endian as in the file) into `dst`.
// Throws grpo::Error for a type that is not dequantizable or a count that is not whole blocks.
void dequantize(const GgmlType& type, const uint8_t* src, int64_t n_elements, float* dst);

}  // namespace grpo::model::gguf
