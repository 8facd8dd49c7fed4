// The GGUF reader on crafted files: metadata of each kind reads back, and every kind of broken
// file gives one error naming the file and the problem (bad magic, version 1, a tensor past the
// end, an unknown type, a misaligned offset, a string or array longer than the file), found
// before anything is allocated from the bad length.
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "core/error.h"
#include "model/gguf/gguf_file.h"
#include "tests/model/gguf_test_writer.h"
#include "tests/model/test_util.h"

namespace grpo::model::gguf {
namespace {

using testing::GgufWriter;
namespace fs = std::filesystem;

class GgufFileTest : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = grpo::model::testing::scratch_dir("gguf_file"); }
  void TearDown() override { grpo::try_remove_tree(dir_); }

  fs::path write(const GgufWriter& w, uint32_t version = 3) {
    const auto path = dir_ / "crafted.gguf";
    w.write(path, version);
    return path;
  }
  fs::path write_bytes(const GgufWriter::Bytes& bytes) {
    const auto path = dir_ / "crafted.gguf";
    GgufWriter::write_bytes(path, bytes);
    return path;
  }
  // Opening `path` fails with a message naming it and holding every one of `parts`.
  static void expect_open_error(const fs::path& path, const std::vector<std::string>& parts) {
    try {
      GgufFile::open(path);
      FAIL() << "expected an error for " << path;
    } catch (const Error& e) {
      const std::string message = e.what();
      EXPECT_NE(message.find(path.string()), std::string::npos) << message;
      for (const auto& part : parts) EXPECT_NE(message.find(part), std::string::npos) << "'" << part << "' not in: " << message;
    }
  }

  static GgufWriter one_tensor_file(uint32_t type, std::vector<uint64_t> dims, size_t nbytes, int64_t offset = -1) {
    GgufWriter w;
    w.string("general.architecture", "llama");
    w.tensor("blk.3.attn_q.weight", std::move(dims), type, GgufWriter::Bytes(nbytes, 0), offset);
    return w;
  }

  fs::path dir_;
};

TEST_F(GgufFileTest, MetadataOfEveryKindReadsBack) {
  GgufWriter w;
  w.string("general.architecture", "llama");
  w.u32("llama.block_count", 30);
  w.i32("signed", -7);
  w.f32("llama.rope.freq_base", 100000.0f);
  w.boolean("tokenizer.ggml.add_bos_token", true);
  w.strings("tokenizer.ggml.tokens", {"a", "", "<|im_end|>"});
  w.f32s("tokenizer.ggml.scores", {0.5f, -1.0f});
  w.i32s("tokenizer.ggml.token_type", {1, 3});
  w.tensor("token_embd.weight", {32, 3}, 8, GgufWriter::Bytes(3 * 34, 0));  // Q8_0: 3 rows of one block
  const auto file = GgufFile::open(write(w, 2));
  EXPECT_EQ(file->version(), 2u);
  EXPECT_EQ(file->required_string("general.architecture"), "llama");
  EXPECT_EQ(file->required_integer("llama.block_count"), 30);
  EXPECT_EQ(file->integer("signed"), -7);
  EXPECT_EQ(file->number("llama.rope.freq_base"), 100000.0);
  EXPECT_EQ(file->boolean("tokenizer.ggml.add_bos_token"), true);
  EXPECT_EQ(file->string_array("tokenizer.ggml.tokens"), (std::vector<std::string>{"a", "", "<|im_end|>"}));
  EXPECT_EQ(file->float_array("tokenizer.ggml.scores"), (std::vector<float>{0.5f, -1.0f}));
  EXPECT_EQ(file->int32_array("tokenizer.ggml.token_type"), (std::vector<int32_t>{1, 3}));
  EXPECT_FALSE(file->integer("absent").has_value());
  ASSERT_EQ(file->tensors().size(), 1u);
  const auto& t = file->tensors()[0];
  EXPECT_EQ(t.shape(), (std::vector<int64_t>{3, 32}));
  EXPECT_STREQ(t.type->name, "Q8_0");
  EXPECT_EQ(t.nbytes, 3u * 34);
  EXPECT_EQ(t.offset % 32, 0u);
}

TEST_F(GgufFileTest, WrongMetadataTypeNamesKeyAndBothTypes) {
  GgufWriter w;
  w.u32("general.architecture", 7);
  const auto file = GgufFile::open(write(w));
  try {
    file->required_string("general.architecture");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("'general.architecture' must be string, got u32"), std::string::npos) << e.what();
  }
}

TEST_F(GgufFileTest, BadMagicIsNamed) {
  auto bytes = GgufWriter().bytes();
  bytes[3] = 'X';
  expect_open_error(write_bytes(bytes), {"bad magic", "expected 'GGUF'"});
}

TEST_F(GgufFileTest, VersionOneIsRejected) {
  expect_open_error(write(GgufWriter(), 1), {"GGUF version 1 is not supported", "expected 2 or 3"});
  expect_open_error(write(GgufWriter(), 4), {"GGUF version 4 is not supported"});
}

TEST_F(GgufFileTest, TruncatedTensorDataRunsPastTheEnd) {
  auto bytes = one_tensor_file(0, {8}, 32).bytes();
  bytes.resize(bytes.size() - 8);
  expect_open_error(write_bytes(bytes), {"tensor 'blk.3.attn_q.weight' runs past the end of the file", "needs 32 bytes",
                                         "file has " + std::to_string(bytes.size())});
}

TEST_F(GgufFileTest, TensorOffsetBeyondTheFileRunsPastTheEnd) {
  expect_open_error(write(one_tensor_file(0, {8}, 32, int64_t{1} << 40)),
                    {"tensor 'blk.3.attn_q.weight' runs past the end of the file"});
}

TEST_F(GgufFileTest, UnknownTensorTypeIsNamed) {
  expect_open_error(write(one_tensor_file(99, {8}, 32)), {"unknown tensor type 99 for tensor 'blk.3.attn_q.weight'"});
}

TEST_F(GgufFileTest, MisalignedTensorOffsetIsRejected) {
  expect_open_error(write(one_tensor_file(0, {8}, 32, 4)), {"tensor 'blk.3.attn_q.weight' has data offset 4",
                                                            "not a multiple of the alignment 32"});
}

TEST_F(GgufFileTest, RowNotWholeBlocksIsRejected) {
  expect_open_error(write(one_tensor_file(2, {48, 2}, 64)), {"innermost dimension of 48", "Q4_0's block of 32"});
}

// Found by gguf_file_fuzz: with a zero dimension the element count never overflowed, and a
// dimension above 2^63 - 1 became negative in GgufTensor::dims.
TEST_F(GgufFileTest, DimensionBeyondInt64IsRejectedEvenWithAZeroDimension) {
  expect_open_error(write(one_tensor_file(0, {0, uint64_t{1} << 63}, 0)),
                    {"tensor 'blk.3.attn_q.weight' dimension 1 is 9223372036854775808, more than 2^63 - 1"});
}

// Found by gguf_file_fuzz (UBSan): an empty array copied from a null pointer.
TEST_F(GgufFileTest, EmptyNumericArraysReadAsEmpty) {
  GgufWriter w;
  w.f32s("scores", {});
  w.i32s("types", {});
  const auto file = GgufFile::open(write(w));
  EXPECT_TRUE(file->float_array("scores").empty());
  EXPECT_TRUE(file->int32_array("types").empty());
}

TEST_F(GgufFileTest, BytesInMemoryReadLikeTheFileAndNameTheGivenName) {
  const auto bytes = one_tensor_file(0, {8}, 32).bytes();
  const auto file = GgufFile::from_bytes(bytes, "memory.gguf");
  ASSERT_EQ(file->tensors().size(), 1u);
  EXPECT_EQ(file->tensors()[0].offset, GgufFile::open(write_bytes(bytes))->tensors()[0].offset);
  EXPECT_EQ(file->string("general.architecture"), "llama");
  auto truncated = bytes;
  truncated.resize(truncated.size() - 8);
  try {
    GgufFile::from_bytes(truncated, "memory.gguf");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()).rfind("memory.gguf: tensor 'blk.3.attn_q.weight' runs past the end", 0), 0u) << e.what();
  }
  EXPECT_THROW(GgufFile::from_bytes({}, "memory.gguf"), Error);
}

TEST_F(GgufFileTest, StringLongerThanTheFileIsRejectedBeforeAllocating) {
  GgufWriter w;
  GgufWriter::Bytes value;
  GgufWriter::put<uint32_t>(value, 8);                    // string
  GgufWriter::put<uint64_t>(value, uint64_t{1} << 50);   // 1 PiB
  value.insert(value.end(), {'a', 'b', 'c'});
  w.raw("general.name", value);
  expect_open_error(write(w), {"metadata 'general.name'", "a string of 1125899906842624 bytes",
                               "runs past the end of the file"});
}

TEST_F(GgufFileTest, HugeArrayCountIsRejectedBeforeAllocating) {
  for (uint32_t element_type : {8u, 0u, 10u}) {  // strings, u8, u64
    GgufWriter w;
    GgufWriter::Bytes value;
    GgufWriter::put<uint32_t>(value, 9);
    GgufWriter::put<uint32_t>(value, element_type);
    GgufWriter::put<uint64_t>(value, uint64_t{1} << 62);
    w.raw("tokenizer.ggml.tokens", value);
    expect_open_error(write(w), {"metadata 'tokenizer.ggml.tokens'", "4611686018427387904 entries",
                                 "run past the end of the file"});
  }
}

TEST_F(GgufFileTest, HugeTensorAndMetadataCountsAreRejected) {
  auto bytes = GgufWriter().bytes();
  const uint64_t huge = uint64_t{1} << 60;
  std::memcpy(bytes.data() + 8, &huge, 8);  // tensor count
  expect_open_error(write_bytes(bytes), {"the tensor infos", "run past the end of the file"});
  bytes = GgufWriter().bytes();
  std::memcpy(bytes.data() + 16, &huge, 8);  // metadata count
  expect_open_error(write_bytes(bytes), {"the metadata", "run past the end of the file"});
}

TEST_F(GgufFileTest, UnknownValueTypeAndNestedArraysAreRejected) {
  GgufWriter unknown;
  unknown.raw("odd", {13, 0, 0, 0});
  expect_open_error(write(unknown), {"metadata 'odd' has unknown value type 13"});
  GgufWriter nested;
  GgufWriter::Bytes value;
  GgufWriter::put<uint32_t>(value, 9);
  GgufWriter::put<uint32_t>(value, 9);
  GgufWriter::put<uint64_t>(value, 0);
  nested.raw("nested", value);
  expect_open_error(write(nested), {"metadata 'nested' is an array of arrays"});
}

TEST_F(GgufFileTest, EmptyAndMissingFilesAreNamed) {
  write_bytes({});
  expect_open_error(dir_ / "crafted.gguf", {"empty file"});
  try {
    GgufFile::open(dir_ / "absent.gguf");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("absent.gguf: cannot open"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace grpo::model::gguf
