// TensorBoard event files byte by byte: ISA-L's CRC32C and TensorFlow's mask on known vectors,
// the TFRecord framing, and the hand-written protobuf encoder's bytes for each Event kind we
// write. The expected bytes were produced by TensorBoard's own generated protobuf classes
// (tensorboard.compat.proto.event_pb2, 2.21.0) and record_writer.py, serializing the same
// messages; the readback of whole files through TensorBoard is tests/cli/tensorboard_cli_test.cpp.
// Also the buckets expert loads are given (histogram.h), worked by hand.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "core/error.h"
#include "core/filesystem.h"
#include "core/tensorboard/event_writer.h"
#include "core/tensorboard/histogram.h"
#include "core/tensorboard/protobuf_wire.h"
#include "core/tensorboard/run_events.h"
#include "core/tensorboard/tf_record.h"

namespace grpo::tensorboard {
namespace {

std::string hex(const std::string& bytes) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (const unsigned char c : bytes) {
    out += digits[c >> 4];
    out += digits[c & 15];
  }
  return out;
}

TEST(TensorBoardRecord, Crc32cAndItsMaskMatchKnownVectors) {
  EXPECT_EQ(crc32c("123456789"), 0xE3069283u);  // the CRC-32C check value (RFC 3720)
  EXPECT_EQ(crc32c(""), 0u);
  EXPECT_EQ(crc32c(std::string(32, '\0')), 0x8A9136AAu);  // RFC 3720 B.4: 32 bytes of zeros
  EXPECT_EQ(crc32c(std::string(32, '\xff')), 0x62A8AB43u);  // RFC 3720 B.4: 32 bytes of ones
  EXPECT_EQ(masked_crc32c("123456789"), 0xC78AB0E5u);  // ((c >> 15) | (c << 17)) + 0xa282ead8
  EXPECT_EQ(masked_crc32c(""), 0xA282EAD8u);
}

TEST(TensorBoardRecord, FramingIsLengthMaskedCrcDataMaskedCrc) {
  EXPECT_EQ(hex(tf_record("abc")), "0300000000000000" "b099490e" "616263" "6e57f121");
}

TEST(ProtobufWire, VarintsFixedWidthsAndNestedMessagesEncodeAsProtobufDoes) {
  ProtoMessage inner;
  inner.varint(1, 300);  // 300 = 0b1_0010_1100 -> ac 02
  ProtoMessage m;
  m.varint(2, static_cast<uint64_t>(int64_t{-1})).fixed64(1, 1.0).fixed32(5, 0.25f).bytes(3, "hi").message(4, inner);
  EXPECT_EQ(hex(m.encoded()),
            "10ffffffffffffffffff01"  // field 2, varint: -1 takes ten bytes
            "09000000000000f03f"      // field 1, 64-bit: 1.0
            "2d0000803e"              // field 5, 32-bit: 0.25f
            "1a026869"                // field 3, length 2: "hi"
            "220308ac02");            // field 4, length 3: {1: 300}
}

TEST(TensorBoardEvents, EachEventKindHasTheBytesOfTensorBoardsOwnProtobuf) {
  EXPECT_EQ(hex(file_version_event(2.0)), "0900000000000000401a0d627261696e2e4576656e743a32");
  EXPECT_EQ(hex(scalars_event(3, 1.5, {{"a/b", 0.25}})), "09000000000000f83f10032a0c0a0a0a03612f62150000803e");
  EXPECT_EQ(hex(text_event(7, 1.0, "samples", {"x", "yz"})),
            "09000000000000f03f10072a260a240a0773616d706c6573420f08071204120208024201784202797a4a080a060a0474657874");
  EXPECT_EQ(hex(session_start_event(300, 1.0)), "09000000000000f03f10ac023a020801");
  const auto loads = histogram_of({0.5, 0.25, 0.125, 0.125});
  ASSERT_TRUE(loads);
  EXPECT_EQ(hex(histograms_event(5, 2.0, {{"l0", *loads}})),
            "09000000000000004010052aab010aa8010a026c302aa10109000000000000c03f11000000000000e03f1900000000000010"
            "4021000000000000f03f29000000000000d63f3238000000000000c43f000000000000cc3f000000000000d23f0000000000"
            "00d63f000000000000da3f000000000000de3f000000000000e13f3a38000000000000004000000000000000000000000000"
            "00f03f000000000000000000000000000000000000000000000000000000000000f03f");
}

TEST(TensorBoardHistogram, ExpertLoadsFallInBucketsAQuarterOfTheBalancedShareWide) {
  // Four experts: the balanced share is 1/4, buckets 1/16 wide centered on k/16, from
  // [1.5/16, 2.5/16) (holding the smallest load, 0.125 = 2/16) to [7.5/16, 8.5/16) (the largest, 0.5).
  const auto h = histogram_of({0.5, 0.25, 0.125, 0.125});
  ASSERT_TRUE(h);
  EXPECT_EQ(h->min, 0.125);
  EXPECT_EQ(h->max, 0.5);
  EXPECT_EQ(h->num, 4);
  EXPECT_EQ(h->sum, 1.0);
  EXPECT_EQ(h->sum_squares, 0.25 + 0.0625 + 2 * 0.015625);
  EXPECT_EQ(h->bucket_limit,
            (std::vector<double>{2.5 / 16, 3.5 / 16, 4.5 / 16, 5.5 / 16, 6.5 / 16, 7.5 / 16, 8.5 / 16}));
  EXPECT_EQ(h->bucket, (std::vector<double>{2, 0, 1, 0, 0, 0, 1}));  // 0.25 = 4/16 mid-bucket
}

TEST(TensorBoardHistogram, DeadExpertsCountAtZeroAndNonFiniteValuesAreLeftOut) {
  const auto h = histogram_of({0.0, 0.75, NAN, 0.0, 0.25, INFINITY});
  ASSERT_TRUE(h);
  EXPECT_EQ(h->num, 4);  // four finite shares: buckets of 1/16 centered on 0/16 to 12/16
  EXPECT_EQ(h->min, 0.0);
  EXPECT_EQ(h->sum, 1.0);
  ASSERT_EQ(h->bucket_limit.size(), 13u);
  EXPECT_EQ(h->bucket_limit.front(), 0.5 / 16);
  EXPECT_EQ(h->bucket_limit.back(), 12.5 / 16);
  std::vector<double> expected(13, 0.0);
  expected[0] = 2, expected[4] = 1, expected[12] = 1;
  EXPECT_EQ(h->bucket, expected);
  EXPECT_FALSE(histogram_of({NAN, -INFINITY}));
  EXPECT_FALSE(histogram_of({}));
}

TEST(TensorBoardHistogram, ValuesThatAreNotSharesStillGetABoundedNumberOfBuckets) {
  // Quarter-share buckets (1/8 wide for two values) would need 8000 here.
  const auto wide = histogram_of({0.0, 1000.0, 500.0});
  ASSERT_TRUE(wide);
  EXPECT_LE(wide->bucket_limit.size(), kMaxHistogramBuckets);
  EXPECT_GE(wide->bucket_limit.size(), kMaxHistogramBuckets - 1);
  double counted = 0;
  for (const double c : wide->bucket) counted += c;
  EXPECT_EQ(counted, 3);
  EXPECT_EQ(wide->bucket.back(), 1) << "1000 is the largest value, in the last bucket";
  // Far from zero k + 1 == k in doubles: one bucket, not an endless loop.
  const auto far = histogram_of({1e20, 1e20});
  ASSERT_TRUE(far);
  EXPECT_EQ(far->bucket, std::vector<double>{2});
}

TEST(TensorBoardEvents, AFileStartsWithTheFileVersionRecordAndNamesItselfForTensorBoard) {
  const auto dir = std::filesystem::temp_directory_path() / ("grpo_tb_file_" + std::to_string(::getpid()));
  remove_tree(dir);
  std::filesystem::path first, second;
  {
    EventFileWriter a(dir / "tb");
    EventFileWriter b(dir / "tb");  // the same second: a new name, never the first file reopened
    a.write(scalars_event(1, 1.5, {{"x", 2.0}}));
    first = a.path();
    second = b.path();
  }
  EXPECT_NE(first, second);
  EXPECT_EQ(first.filename().string().rfind("events.out.tfevents.", 0), 0u) << first;
  std::ifstream in(first, std::ios::binary);
  std::stringstream read;
  read << in.rdbuf();
  const std::string bytes = read.str();
  // Record 1: the file_version event, whose wall time (bytes 1-8 of the message) is the file's.
  const std::string version = file_version_event(0);
  ASSERT_GT(bytes.size(), 16 + version.size());
  const std::string first_data = bytes.substr(12, version.size());
  EXPECT_EQ(first_data.substr(9), version.substr(9));
  EXPECT_EQ(bytes.substr(0, 16 + version.size()), tf_record(first_data));
  // Record 2: the scalars, exactly.
  EXPECT_EQ(bytes.substr(16 + version.size()), tf_record(scalars_event(1, 1.5, {{"x", 2.0}})));
  remove_tree(dir);
}

TEST(TensorBoardEvents, SampleTextFencesCodeThatHoldsBackticks) {
  SampleRecord s;
  s.prompt_index = 2;
  s.sample_index = 1;
  s.reward = 1.5;
  s.advantage = -0.5;
  s.rewards = {{"accuracy", 1.0}, {"format", 0.5}};
  s.prompt = "Add 2 and 3.";
  s.completion = "```python\nprint(5)\n```";
  EXPECT_EQ(sample_markdown(s),
            "**prompt 2, sample 1** · reward 1.5 · advantage -0.5\n\n"
            "rewards: accuracy 1, format 0.5\n\n"
            "prompt:\n\n```\nAdd 2 and 3.\n```\n\n"
            "completion:\n\n````\n```python\nprint(5)\n```\n````\n");
}

TEST(TensorBoardEvents, AnUnwritableDirectoryIsAnErrorNamingIt) {
  try {
    EventFileWriter w("/proc/grpo-no-such-dir/tb");
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("/proc/grpo-no-such-dir/tb"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace grpo::tensorboard
