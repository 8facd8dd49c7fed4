// TFRecord framing with ISA-L's CRC32C; see tf_record.h.
#include "core/tensorboard/tf_record.h"

#include <isa-l/crc.h>

#include <algorithm>
#include <climits>

namespace grpo::tensorboard {

uint32_t crc32c(std::string_view data) {
  // crc32_iscsi takes the running register (start all ones) and returns it without the final
  // inversion; its length is an int, so long inputs go in pieces.
  uint32_t reg = 0xFFFFFFFFu;
  auto* bytes = reinterpret_cast<unsigned char*>(const_cast<char*>(data.data()));
  for (size_t done = 0; done < data.size();) {
    const size_t piece = std::min<size_t>(data.size() - done, INT_MAX);
    reg = crc32_iscsi(bytes + done, static_cast<int>(piece), reg);
    done += piece;
  }
  return ~reg;
}

uint32_t masked_crc32c(std::string_view data) {
  const uint32_t crc = crc32c(data);
  return ((crc >> 15) | (crc << 17)) + 0xa282ead8u;
}

std::string tf_record(std::string_view data) {
  auto append_le = [](std::string& out, uint64_t word, int bytes) {
    for (int i = 0; i < bytes; ++i) out += static_cast<char>((word >> (8 * i)) & 0xFF);
  };
  std::string record;
  record.reserve(data.size() + 16);
  append_le(record, data.size(), 8);
  append_le(record, masked_crc32c(record), 4);
  record.append(data.data(), data.size());
  append_le(record, masked_crc32c(data), 4);
  return record;
}

}  // namespace grpo::tensorboard
