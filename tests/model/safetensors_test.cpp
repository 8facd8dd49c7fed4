// Safetensors and checkpoint-directory I/O: round trips for every dtype, sharding with an index,
// and hostile files (truncated, bad header, offsets past the end) rejected with errors that name
// the tensor or the byte offset.
#include <gtest/gtest.h>

#include <fstream>

#include "core/error.h"
#include "core/text/json_parse.h"
#include "model/io/checkpoint.h"
#include "model/io/safetensors.h"
#include "test_util.h"

namespace grpo::model {
namespace {

using testing::scratch_dir;

std::string error_of(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

void write_raw(const std::filesystem::path& path, const std::string& header, size_t data_bytes) {
  std::ofstream out(path, std::ios::binary);
  uint64_t n = header.size();
  out.write(reinterpret_cast<const char*>(&n), 8);
  out << header;
  out << std::string(data_bytes, '\0');
}

TEST(Safetensors, EveryDtypeRoundTripsBitExactly) {
  const auto dir = scratch_dir("dtypes");
  std::vector<std::pair<std::string, torch::Tensor>> tensors = {
      {"f32", torch::randn({3, 5})},
      {"bf16", torch::randn({4, 2}).to(torch::kBFloat16)},
      {"f16", torch::randn({7}).to(torch::kFloat16)},
      {"f64", torch::randn({2, 2}, torch::kFloat64)},
      {"i64", torch::arange(-5, 6, torch::kInt64)},
      {"i32", torch::arange(0, 9, torch::kInt32).view({3, 3})},
      {"u8", torch::arange(0, 200, torch::kInt32).to(torch::kUInt8)},
      {"bool", torch::tensor({true, false, true})},
      {"scalar", torch::scalar_tensor(3.5)},
      {"empty", torch::zeros({0, 4})},
  };
  save_safetensors(dir / "t.safetensors", tensors, {{"format", "pt"}, {"note", "x"}});
  auto file = SafetensorsFile::open(dir / "t.safetensors");
  EXPECT_EQ(file->metadata().at("note"), "x");
  ASSERT_EQ(file->entries().size(), tensors.size());
  for (const auto& [name, t] : tensors) {
    auto back = file->tensor(name);
    EXPECT_EQ(back.scalar_type(), t.scalar_type()) << name;
    EXPECT_TRUE(torch::equal(back, t)) << name;
  }
}

TEST(Safetensors, ViewsAreCopyOnWriteAndOutliveTheFileHandle) {
  const auto dir = scratch_dir("cow");
  save_safetensors(dir / "t.safetensors", {{"w", torch::ones({4})}});
  torch::Tensor view;
  {
    auto file = SafetensorsFile::open(dir / "t.safetensors");
    view = file->tensor("w");
  }
  view.mul_(3);  // writes to the private mapping, never to the file
  EXPECT_TRUE(torch::equal(view, torch::full({4}, 3.0f)));
  EXPECT_TRUE(torch::equal(SafetensorsFile::open(dir / "t.safetensors")->tensor("w"), torch::ones({4})));
}

TEST(Safetensors, TruncatedFileNamesTheTensorAndOffset) {
  const auto dir = scratch_dir("trunc");
  save_safetensors(dir / "t.safetensors", {{"a", torch::ones({4})}, {"big", torch::ones({64})}});
  const auto size = std::filesystem::file_size(dir / "t.safetensors");
  std::filesystem::resize_file(dir / "t.safetensors", size - 10);
  const auto msg = error_of([&] { SafetensorsFile::open(dir / "t.safetensors"); });
  EXPECT_NE(msg.find("'big'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("truncated"), std::string::npos) << msg;
  EXPECT_NE(msg.find(std::to_string(size)), std::string::npos) << msg;  // the byte offset it needed
}

TEST(Safetensors, HostileHeadersAreRejectedWithTheirLocation) {
  const auto dir = scratch_dir("bad");
  const auto path = dir / "t.safetensors";
  {
    std::ofstream out(path, std::ios::binary);
    uint64_t n = 1ull << 40;  // header length far beyond the file
    out.write(reinterpret_cast<const char*>(&n), 8);
  }
  EXPECT_NE(error_of([&] { SafetensorsFile::open(path); }).find("header length"), std::string::npos);
  write_raw(path, "{\"a\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [0, 8]", 8);
  EXPECT_NE(error_of([&] { SafetensorsFile::open(path); }).find("bad JSON at byte offset"), std::string::npos);
  write_raw(path, "{\"w\": {\"dtype\": \"F32\", \"shape\": [3], \"data_offsets\": [0, 8]}}", 8);
  auto msg = error_of([&] { SafetensorsFile::open(path); });
  EXPECT_NE(msg.find("'w'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("needs 12"), std::string::npos) << msg;
  write_raw(path, "{\"w\": {\"dtype\": \"Q4\", \"shape\": [2], \"data_offsets\": [0, 8]}}", 8);
  msg = error_of([&] { SafetensorsFile::open(path); });
  EXPECT_NE(msg.find("'w'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("Q4"), std::string::npos) << msg;
  write_raw(path, "{\"w\": {\"dtype\": \"F32\", \"shape\": [4611686018427387904, 8], \"data_offsets\": [0, 8]}}", 8);
  EXPECT_NE(error_of([&] { SafetensorsFile::open(path); }).find("overflows"), std::string::npos);
  std::ofstream(path, std::ios::binary | std::ios::trunc) << "abc";
  EXPECT_NE(error_of([&] { SafetensorsFile::open(path); }).find("truncated"), std::string::npos);
}

// The limits of parse_safetensors_header, on crafted files: each error names the file and the limit.
TEST(Safetensors, ResourceLimitsAreNamedWithTheFile) {
  const auto dir = scratch_dir("limits");
  const auto path = dir / "t.safetensors";
  {
    // A header length just past the limit, in a file far smaller: refused before any allocation.
    std::ofstream out(path, std::ios::binary);
    const uint64_t n = kMaxSafetensorsHeaderBytes + 1;
    out.write(reinterpret_cast<const char*>(&n), 8);
    out << "{}";
  }
  auto msg = error_of([&] { SafetensorsFile::open(path); });
  EXPECT_NE(msg.find(path.string()), std::string::npos) << msg;
  EXPECT_NE(msg.find("limit of " + std::to_string(kMaxSafetensorsHeaderBytes)), std::string::npos) << msg;
  // Metadata nested one level past kMaxJsonDepth (the header object is the first level).
  const std::string deep = std::string(kMaxJsonDepth, '[') + std::string(kMaxJsonDepth, ']');
  write_raw(path, "{\"__metadata__\": " + deep + "}", 0);
  msg = error_of([&] { SafetensorsFile::open(path); });
  EXPECT_NE(msg.find(path.string()), std::string::npos) << msg;
  EXPECT_NE(msg.find("deeper than " + std::to_string(kMaxJsonDepth)), std::string::npos) << msg;
  // One level less is only a wrong type.
  const std::string shallow = std::string(kMaxJsonDepth - 1, '[') + std::string(kMaxJsonDepth - 1, ']');
  write_raw(path, "{\"__metadata__\": " + shallow + "}", 0);
  EXPECT_NE(error_of([&] { SafetensorsFile::open(path); }).find("__metadata__ is not an object"), std::string::npos);
}

TEST(Safetensors, OverlappingTensorsAreRefusedButEmptyOnesMaySitAnywhere) {
  const auto dir = scratch_dir("overlap");
  const auto path = dir / "t.safetensors";
  write_raw(path,
            "{\"a\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [0, 8]},"
            " \"b\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [4, 12]}}",
            12);
  const auto msg = error_of([&] { SafetensorsFile::open(path); });
  EXPECT_NE(msg.find("'a' and 'b' overlap: data_offsets [0, 8) and [4, 12)"), std::string::npos) << msg;
  write_raw(path,
            "{\"a\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [0, 8]},"
            " \"e\": {\"dtype\": \"F32\", \"shape\": [0], \"data_offsets\": [4, 4]}}",
            8);
  const auto file = SafetensorsFile::open(path);
  EXPECT_EQ(file->entries().size(), 2u);
  EXPECT_EQ(file->tensor("e").numel(), 0);
}

TEST(Checkpoint, ShardsByByteBudgetAndReadsBackThroughTheIndex) {
  const auto dir = scratch_dir("shards");
  std::vector<std::pair<std::string, torch::Tensor>> tensors;
  for (int i = 0; i < 5; ++i) tensors.emplace_back("t" + std::to_string(i), torch::full({16}, float(i)));  // 64 B each
  save_checkpoint(dir, tensors, /*max_shard_bytes=*/130);
  EXPECT_TRUE(std::filesystem::exists(dir / "model.safetensors.index.json"));
  EXPECT_TRUE(std::filesystem::exists(dir / "model-00003-of-00003.safetensors"));
  EXPECT_FALSE(std::filesystem::exists(dir / "model.safetensors"));
  CheckpointReader reader(dir);
  ASSERT_EQ(reader.names().size(), 5u);
  for (const auto& [name, t] : tensors) EXPECT_TRUE(torch::equal(reader.tensor(name), t)) << name;
  // Re-saving into the same directory as one file removes the stale shards and index.
  save_checkpoint(dir, tensors);
  EXPECT_FALSE(std::filesystem::exists(dir / "model.safetensors.index.json"));
  EXPECT_FALSE(std::filesystem::exists(dir / "model-00001-of-00003.safetensors"));
  EXPECT_EQ(CheckpointReader(dir).names().size(), 5u);
}

TEST(Checkpoint, IndexPointingAtTheWrongShardNamesTheTensor) {
  const auto dir = scratch_dir("badindex");
  save_safetensors(dir / "a.safetensors", {{"x", torch::ones({2})}});
  std::ofstream(dir / "model.safetensors.index.json") << R"({"weight_map": {"y": "a.safetensors"}})";
  const auto msg = error_of([&] { CheckpointReader reader(dir); });
  EXPECT_NE(msg.find("'y'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("a.safetensors"), std::string::npos) << msg;
}

}  // namespace
}  // namespace grpo::model
