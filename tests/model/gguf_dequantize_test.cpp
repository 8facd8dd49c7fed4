// Dequantization is bit-equal to gguf-py's (what transformers' GGUF loader uses): every type's
// random blocks from tests/model/data/gguf/dequant_reference.bin, written by
// bench/parity/gguf_dequant_reference.py --blocks, must dequantize to exactly the float32 bits
// gguf-py gave. Also the float16 widening on its edge cases, and a hand-computed block per
// K-quant packing detail.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <fstream>
#include <iterator>
#include <limits>
#include <set>
#include <string>
#include <vector>

#include "core/error.h"
#include "model/gguf/gguf_dequantize.h"

namespace grpo::model::gguf {
namespace {

struct ReferenceEntry {
  uint32_t type_id = 0;
  uint32_t n_elements = 0;
  std::vector<uint8_t> raw;
  std::vector<float> values;
};

std::vector<ReferenceEntry> read_reference() {
  const std::string path = std::string(GRPO_SOURCE_DIR) + "/tests/model/data/gguf/dequant_reference.bin";
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in) << path;
  std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  size_t pos = 0;
  auto take = [&](void* dst, size_t n) {
    if (pos + n > bytes.size()) throw std::runtime_error(path + ": truncated");
    std::memcpy(dst, bytes.data() + pos, n);
    pos += n;
  };
  char magic[4];
  uint32_t version = 0, count = 0;
  take(magic, 4);
  take(&version, 4);
  take(&count, 4);
  EXPECT_EQ(std::string(magic, 4), "GGDQ");
  EXPECT_EQ(version, 1u);
  std::vector<ReferenceEntry> entries(count);
  for (auto& e : entries) {
    uint64_t raw_bytes = 0;
    take(&e.type_id, 4);
    take(&e.n_elements, 4);
    take(&raw_bytes, 8);
    e.raw.resize(raw_bytes);
    take(e.raw.data(), raw_bytes);
    e.values.resize(e.n_elements);
    take(e.values.data(), e.n_elements * sizeof(float));
  }
  EXPECT_EQ(pos, bytes.size());
  return entries;
}

uint32_t bits_of(float f) {
  uint32_t b;
  std::memcpy(&b, &f, sizeof b);
  return b;
}

TEST(GgufDequantize, EveryTypeIsBitEqualToGgufPy) {
  const auto entries = read_reference();
  std::set<std::string> covered;
  for (const auto& e : entries) {
    const GgmlType* type = find_ggml_type(e.type_id);
    ASSERT_NE(type, nullptr) << e.type_id;
    ASSERT_EQ(e.raw.size(), e.n_elements / type->block_size * type->type_size) << type->name;
    std::vector<float> ours(e.n_elements);
    dequantize(*type, e.raw.data(), e.n_elements, ours.data());
    size_t first_diff = e.n_elements;
    for (size_t i = 0; i < e.n_elements && first_diff == e.n_elements; ++i)
      if (bits_of(ours[i]) != bits_of(e.values[i])) first_diff = i;
    EXPECT_EQ(std::memcmp(ours.data(), e.values.data(), e.n_elements * sizeof(float)), 0)
        << type->name << ": first difference at element " << first_diff << ": "
        << (first_diff < e.n_elements ? std::to_string(ours[first_diff]) + " vs gguf-py " + std::to_string(e.values[first_diff]) : "");
    covered.insert(type->name);
  }
  EXPECT_EQ(covered, (std::set<std::string>{"F32", "F16", "BF16", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q8_0", "Q4_K", "Q5_K", "Q6_K"}));
}

TEST(GgufDequantize, HalfWideningKeepsSubnormalsInfinitiesAndSignedZero) {
  EXPECT_EQ(half_to_float(0x3C00), 1.0f);
  EXPECT_EQ(half_to_float(0xC000), -2.0f);
  EXPECT_EQ(half_to_float(0x7BFF), 65504.0f);
  EXPECT_EQ(half_to_float(0x0001), std::ldexp(1.0f, -24));        // smallest subnormal
  EXPECT_EQ(half_to_float(0x03FF), std::ldexp(1023.0f, -24));     // largest subnormal
  EXPECT_EQ(half_to_float(0x0400), std::ldexp(1.0f, -14));        // smallest normal
  EXPECT_EQ(bits_of(half_to_float(0x8000)), 0x80000000u);         // -0
  EXPECT_EQ(half_to_float(0x7C00), std::numeric_limits<float>::infinity());
  EXPECT_EQ(half_to_float(0xFC00), -std::numeric_limits<float>::infinity());
  EXPECT_TRUE(std::isnan(half_to_float(0x7E00)));
}

TEST(GgufDequantize, Q4KSubBlockScalesUseTheirHighBitsFromTheFirstEightBytes) {
  // d = 1, dmin = 0.5; sub-block 0: scale 2, min 3; sub-block 1: scale 5, min 1; sub-block 4:
  // scale (0x27 & 0xF) | ((0x42 >> 2) & 0x30) = 23, min (0x27 >> 4) | ((3 >> 2) & 0x30) = 2.
  std::vector<uint8_t> block(144, 0);
  block[1] = 0x3C;  // f16 1.0
  block[3] = 0x38;  // f16 0.5
  uint8_t* scales = block.data() + 4;
  scales[0] = 0x42;
  scales[1] = 5;
  scales[4] = 3;
  scales[5] = 1;
  scales[8] = 0x27;
  uint8_t* qs = block.data() + 16;
  qs[0] = 0x94;   // element 0: low nibble 4; element 32: high nibble 9
  qs[64] = 0x03;  // element 128 (sub-block 4): 3
  std::vector<float> out(256);
  dequantize(*find_ggml_type(12), block.data(), 256, out.data());
  EXPECT_EQ(out[0], 1.0f * 2 * 4 - 0.5f * 3);    // 6.5
  EXPECT_EQ(out[32], 1.0f * 5 * 9 - 0.5f * 1);   // 44.5
  EXPECT_EQ(out[128], 1.0f * 23 * 3 - 0.5f * 2); // 68
  EXPECT_EQ(out[1], -1.5f);                      // q 0 in sub-block 0: -dmin * min
}

TEST(GgufDequantize, Q6KTakesLowNibblesAndTwoBitHighsFromTheirHalves) {
  std::vector<uint8_t> block(210, 0);
  block[209] = 0x38;  // d = 0.5
  auto* scales = reinterpret_cast<int8_t*>(block.data() + 192);
  scales[0] = -3;
  scales[4] = 2;
  scales[8] = 4;
  block[0] = 0x5C;        // ql[0]: element 0 low 12, element 64 low 5
  block[128] = 0x09;      // qh[0]: element 0 high 1, element 32 high 2, element 64 high 0
  block[64] = 0x0F;       // ql[64]: element 128 low 15
  block[128 + 32] = 0x03; // qh[32]: element 128 high 3
  std::vector<float> out(256);
  dequantize(*find_ggml_type(14), block.data(), 256, out.data());
  EXPECT_EQ(out[0], (0.5f * -3) * (28 - 32));   // 6
  EXPECT_EQ(out[32], 0.0f);                     // high bits 2 -> q 32 - 32
  EXPECT_EQ(out[64], (0.5f * 2) * (5 - 32));    // -27
  EXPECT_EQ(out[128], (0.5f * 4) * (63 - 32));  // 62
}

TEST(GgufDequantize, TypesItCannotDequantizeAreNamed) {
  const GgmlType* iq4 = find_ggml_type(23);
  ASSERT_NE(iq4, nullptr);
  EXPECT_STREQ(iq4->name, "IQ4_XS");
  EXPECT_EQ(find_ggml_type(4), nullptr);  // retired Q4_2
  std::vector<uint8_t> block(136, 0);
  std::vector<float> out(256);
  try {
    dequantize(*iq4, block.data(), 256, out.data());
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("IQ4_XS"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("Q6_K"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace grpo::model::gguf
