// Protocol-buffers wire encoding; see protobuf_wire.h.
#include "core/tensorboard/protobuf_wire.h"

#include <cstring>

namespace grpo::tensorboard {
namespace {

template <class Word>
void append_little_endian(std::string& out, Word word) {
  for (size_t i = 0; i < sizeof(Word); ++i) out += static_cast<char>((word >> (8 * i)) & 0xFF);
}

// Wire type 1 (8 bytes) or 5 (4 bytes): the value's IEEE bits, little-endian.
template <class Word, class Value>
void append_fixed(std::string& out, Value value) {
  static_assert(sizeof(Word) == sizeof(Value), "a fixed field holds the value's own bits");
  Word bits;
  std::memcpy(&bits, &value, sizeof bits);
  append_little_endian(out, bits);
}

}  // namespace

void ProtoMessage::raw_varint(uint64_t value) {
  while (value >= 0x80) {
    out_ += static_cast<char>((value & 0x7F) | 0x80);
    value >>= 7;
  }
  out_ += static_cast<char>(value);
}

void ProtoMessage::tag(int field, int wire_type) {
  raw_varint((static_cast<uint64_t>(field) << 3) | static_cast<uint64_t>(wire_type));
}

ProtoMessage& ProtoMessage::varint(int field, uint64_t value) {
  tag(field, 0);
  raw_varint(value);
  return *this;
}

ProtoMessage& ProtoMessage::fixed64(int field, double value) {
  tag(field, 1);
  append_fixed<uint64_t>(out_, value);
  return *this;
}

ProtoMessage& ProtoMessage::fixed32(int field, float value) {
  tag(field, 5);
  append_fixed<uint32_t>(out_, value);
  return *this;
}

ProtoMessage& ProtoMessage::bytes(int field, std::string_view value) {
  tag(field, 2);
  raw_varint(value.size());
  out_.append(value.data(), value.size());
  return *this;
}

ProtoMessage& ProtoMessage::message(int field, const ProtoMessage& nested) { return bytes(field, nested.encoded()); }

ProtoMessage& ProtoMessage::packed_doubles(int field, const std::vector<double>& values) {
  std::string packed;
  for (const double v : values) append_fixed<uint64_t>(packed, v);
  return bytes(field, packed);
}

}  // namespace grpo::tensorboard
