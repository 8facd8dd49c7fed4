// TFRecord framing, the container of TensorBoard's event files: each record is
//   uint64 length (little-endian) | uint32 masked CRC32C of those 8 bytes | data | uint32 masked CRC32C of data
// with mask(crc) = ((crc >> 15) | (crc << 17)) + 0xa282ead8 (mod 2^32), as TensorFlow's
// record writer and tensorboard's record_writer.py write them. The CRC32C (Castagnoli) comes
// from Intel's ISA-L (Debian's libisal-dev, crc32_iscsi); only the framing and the mask are ours.
// Not here: what the data is (event_writer.h), reading records back.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace grpo::tensorboard {

uint32_t crc32c(std::string_view data);
uint32_t masked_crc32c(std::string_view data);
// The bytes of one record holding `data`.
std::string tf_record(std::string_view data);

}  // namespace grpo::tensorboard
