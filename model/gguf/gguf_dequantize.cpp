// ggml type table and block dequantization; see gguf_dequantize.h. Each block function follows
// gguf-py's quants.py dequantize_blocks for that type line by line: scales are widened to float32
// and combined first (d * sc, dmin * m), then every element is one product (and one sum or
// difference) in float32. Multi-byte fields are read with memcpy (little-endian host).
#include "model/gguf/gguf_dequantize.h"

#include <cstring>

#include "core/error.h"

namespace grpo::model::gguf {
namespace {

constexpr uint32_t kQK = 32;  // elements per block of the Q4_0 .. Q8_0 formats

// Every type ggml defines (gguf-py 0.19.0's GGML_QUANT_SIZES); ids 4, 5 and 31-33 are retired.
constexpr GgmlType kTypes[] = {
    {0, "F32", 1, 4, true},          {1, "F16", 1, 2, true},        {2, "Q4_0", 32, 18, true},
    {3, "Q4_1", 32, 20, true},       {6, "Q5_0", 32, 22, true},     {7, "Q5_1", 32, 24, true},
    {8, "Q8_0", 32, 34, true},       {9, "Q8_1", 32, 40, false},    {10, "Q2_K", 256, 84, false},
    {11, "Q3_K", 256, 110, false},   {12, "Q4_K", 256, 144, true},  {13, "Q5_K", 256, 176, true},
    {14, "Q6_K", 256, 210, true},    {15, "Q8_K", 256, 292, false}, {16, "IQ2_XXS", 256, 66, false},
    {17, "IQ2_XS", 256, 74, false},  {18, "IQ3_XXS", 256, 98, false}, {19, "IQ1_S", 256, 50, false},
    {20, "IQ4_NL", 32, 18, false},   {21, "IQ3_S", 256, 110, false}, {22, "IQ2_S", 256, 82, false},
    {23, "IQ4_XS", 256, 136, false}, {24, "I8", 1, 1, false},       {25, "I16", 1, 2, false},
    {26, "I32", 1, 4, false},        {27, "I64", 1, 8, false},      {28, "F64", 1, 8, false},
    {29, "IQ1_M", 256, 56, false},   {30, "BF16", 1, 2, true},      {34, "TQ1_0", 256, 54, false},
    {35, "TQ2_0", 256, 66, false},   {39, "MXFP4", 32, 17, false},  {40, "NVFP4", 64, 36, false},
    {41, "Q1_0", 128, 18, false},
};

uint16_t load_u16(const uint8_t* p) {
  uint16_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

uint32_t load_u32(const uint8_t* p) {
  uint32_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

float load_half(const uint8_t* p) { return half_to_float(load_u16(p)); }

// Q4_0: f16 d, 16 bytes of nibbles (low nibbles are elements 0-15, high nibbles 16-31).
void q4_0_block(const uint8_t* b, float* out) {
  const float d = load_half(b);
  const uint8_t* qs = b + 2;
  for (uint32_t j = 0; j < kQK / 2; ++j) {
    out[j] = d * static_cast<float>(static_cast<int>(qs[j] & 0x0F) - 8);
    out[j + kQK / 2] = d * static_cast<float>(static_cast<int>(qs[j] >> 4) - 8);
  }
}

// Q4_1: f16 d, f16 m, 16 bytes of nibbles; x = d * q + m.
void q4_1_block(const uint8_t* b, float* out) {
  const float d = load_half(b), m = load_half(b + 2);
  const uint8_t* qs = b + 4;
  for (uint32_t j = 0; j < kQK / 2; ++j) {
    out[j] = d * static_cast<float>(qs[j] & 0x0F) + m;
    out[j + kQK / 2] = d * static_cast<float>(qs[j] >> 4) + m;
  }
}

// The 5-bit value of element j of a Q5_0/Q5_1 block: nibble as Q4, bit j of qh as bit 4.
uint32_t q5_value(const uint8_t* qs, uint32_t qh, uint32_t j) {
  const uint32_t low = j < kQK / 2 ? (qs[j] & 0x0F) : (qs[j - kQK / 2] >> 4);
  return low | (((qh >> j) & 1u) << 4);
}

// Q5_0: f16 d, u32 qh, 16 bytes of nibbles; x = d * (q - 16).
void q5_0_block(const uint8_t* b, float* out) {
  const float d = load_half(b);
  const uint32_t qh = load_u32(b + 2);
  const uint8_t* qs = b + 6;
  for (uint32_t j = 0; j < kQK; ++j) out[j] = d * static_cast<float>(static_cast<int>(q5_value(qs, qh, j)) - 16);
}

// Q5_1: f16 d, f16 m, u32 qh, 16 bytes of nibbles; x = d * q + m.
void q5_1_block(const uint8_t* b, float* out) {
  const float d = load_half(b), m = load_half(b + 2);
  const uint32_t qh = load_u32(b + 4);
  const uint8_t* qs = b + 8;
  for (uint32_t j = 0; j < kQK; ++j) out[j] = d * static_cast<float>(q5_value(qs, qh, j)) + m;
}

// Q8_0: f16 d, 32 int8 values; x = q * d.
void q8_0_block(const uint8_t* b, float* out) {
  const float d = load_half(b);
  for (uint32_t j = 0; j < kQK; ++j) out[j] = static_cast<float>(static_cast<int8_t>(b[2 + j])) * d;
}

// The 6-bit scale and min of each of a K-quant block's 8 sub-blocks, packed into 12 bytes
// (gguf-py's Q4_K.get_scale_min).
void k_scale_min(const uint8_t* s, uint8_t* scale, uint8_t* min) {
  for (int i = 0; i < 4; ++i) {
    scale[i] = s[i] & 0x3F;
    min[i] = s[i + 4] & 0x3F;
    scale[i + 4] = (s[i + 8] & 0x0F) | ((s[i] >> 2) & 0x30);
    min[i + 4] = (s[i + 8] >> 4) | ((s[i + 4] >> 2) & 0x30);
  }
}

// Q4_K and Q5_K: f16 d, f16 dmin, 12 scale bytes, [Q5_K: 32 bytes of fifth bits], 128 bytes of
// nibbles; sub-block j (32 elements) takes the low (j even) or high nibbles of bytes
// 32 * (j / 2) ..; x = (d * scale_j) * q - (dmin * min_j).
void k_quant_block(const uint8_t* b, const uint8_t* qh, const uint8_t* qs, float* out) {
  const float d = load_half(b), dmin = load_half(b + 2);
  uint8_t scale[8], min[8];
  k_scale_min(b + 4, scale, min);
  for (uint32_t j = 0; j < 8; ++j) {
    const float dl = d * static_cast<float>(scale[j]);
    const float ml = dmin * static_cast<float>(min[j]);
    const uint8_t* bytes = qs + 32 * (j / 2);
    const uint32_t shift = 4 * (j % 2);
    for (uint32_t l = 0; l < 32; ++l) {
      uint32_t q = (bytes[l] >> shift) & 0x0F;
      if (qh) q |= ((qh[l] >> j) & 1u) << 4;
      out[32 * j + l] = dl * static_cast<float>(q) - ml;
    }
  }
}

void q4_k_block(const uint8_t* b, float* out) { k_quant_block(b, nullptr, b + 16, out); }
void q5_k_block(const uint8_t* b, float* out) { k_quant_block(b, b + 16, b + 48, out); }

// Q6_K: 128 bytes of low nibbles, 64 bytes of 2-bit highs, 16 int8 scales, f16 d. Element
// 128 * h + r takes the nibble of ql[64h + r % 64] chosen by r / 64 and the 2 bits of
// qh[32h + r % 32] chosen by r / 32; x = (d * scale[e / 16]) * (q - 32).
void q6_k_block(const uint8_t* b, float* out) {
  const uint8_t* ql = b;
  const uint8_t* qh = b + 128;
  const int8_t* scales = reinterpret_cast<const int8_t*>(b + 192);
  const float d = load_half(b + 208);
  float dl[16];
  for (int i = 0; i < 16; ++i) dl[i] = d * static_cast<float>(scales[i]);
  for (uint32_t h = 0; h < 2; ++h) {
    for (uint32_t r = 0; r < 128; ++r) {
      const uint32_t low = (ql[64 * h + r % 64] >> (4 * (r / 64))) & 0x0F;
      const uint32_t high = (qh[32 * h + r % 32] >> (2 * (r / 32))) & 0x03;
      const uint32_t e = 128 * h + r;
      out[e] = dl[e / 16] * static_cast<float>(static_cast<int>(low | (high << 4)) - 32);
    }
  }
}

using BlockFn = void (*)(const uint8_t*, float*);

BlockFn block_function(uint32_t id) {
  switch (id) {
    case 2: return q4_0_block;
    case 3: return q4_1_block;
    case 6: return q5_0_block;
    case 7: return q5_1_block;
    case 8: return q8_0_block;
    case 12: return q4_k_block;
    case 13: return q5_k_block;
    case 14: return q6_k_block;
    default: return nullptr;
  }
}

}  // namespace

const GgmlType* find_ggml_type(uint32_t id) {
  for (const auto& t : kTypes)
    if (t.id == id) return &t;
  return nullptr;
}

std::string dequantizable_type_names() {
  std::string out;
  for (const auto& t : kTypes) {
    if (!t.dequantizable) continue;
    if (!out.empty()) out += ", ";
    out += t.name;
  }
  return out;
}

float half_to_float(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
  const uint32_t exponent = (h >> 10) & 0x1Fu;
  uint32_t mantissa = h & 0x3FFu;
  uint32_t bits;
  if (exponent == 0x1F) {
    bits = sign | 0x7F800000u | (mantissa << 13);
  } else if (exponent != 0) {
    bits = sign | ((exponent + 112) << 23) | (mantissa << 13);
  } else if (mantissa == 0) {
    bits = sign;
  } else {
    // Subnormal half: shift the leading one into the implicit bit, lowering the exponent.
    uint32_t e = 113;
    while (!(mantissa & 0x400u)) {
      mantissa <<= 1;
      --e;
    }
    bits = sign | (e << 23) | ((mantissa & 0x3FFu) << 13);
  }
  float f;
  std::memcpy(&f, &bits, sizeof f);
  return f;
}

void dequantize(const GgmlType& type, const uint8_t* src, int64_t n_elements, float* dst) {
  if (!type.dequantizable)
    throw Error(std::string("cannot dequantize ggml type ") + type.name + " (supported: " + dequantizable_type_names() + ")");
  if (n_elements < 0 || n_elements % type.block_size != 0)
    throw Error(std::string("dequantize ") + type.name + ": " + std::to_string(n_elements) +
                " elements is not a whole number of " + std::to_string(type.block_size) + "-element blocks");
  switch (type.id) {
    case 0: std::memcpy(dst, src, static_cast<size_t>(n_elements) * sizeof(float)); return;
    case 1:
      for (int64_t i = 0; i < n_elements; ++i) dst[i] = load_half(src + 2 * i);
      return;
    case 30:
      for (int64_t i = 0; i < n_elements; ++i) {
        const uint32_t bits = static_cast<uint32_t>(load_u16(src + 2 * i)) << 16;
        std::memcpy(dst + i, &bits, sizeof(float));
      }
      return;
    default: break;
  }
  const BlockFn block = block_function(type.id);
  const int64_t n_blocks = n_elements / type.block_size;
  for (int64_t i = 0; i < n_blocks; ++i) block(src + i * type.type_size, dst + i * type.block_size);
}

}  // namespace grpo::model::gguf
