// A protocol-buffers wire-format encoder, just enough for TensorBoard's event files: varint
// (int32, int64, bool, enum), 64-bit (double), 32-bit (float), length-delimited (string, bytes,
// nested message) and packed repeated double fields, appended in the order the caller writes them.
// Written by hand, not generated: the GPU machine's pip LibTorch ships neither libprotobuf nor
// protoc, and the event files need only seven small messages (Event, Summary, Summary.Value,
// SummaryMetadata, TensorProto, TensorShapeProto, HistogramProto), whose field numbers
// event_writer.cpp takes from TensorBoard's published .proto files. It does not decode, and it does not know any schema:
// field numbers and types are the caller's.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace grpo::tensorboard {

class ProtoMessage {
 public:
  // Wire type 0. Negative int32/int64 values take ten bytes, as protobuf encodes them.
  ProtoMessage& varint(int field, uint64_t value);
  ProtoMessage& fixed64(int field, double value);  // wire type 1, little-endian IEEE double
  ProtoMessage& fixed32(int field, float value);   // wire type 5, little-endian IEEE float
  ProtoMessage& bytes(int field, std::string_view value);               // wire type 2
  ProtoMessage& message(int field, const ProtoMessage& nested);         // wire type 2
  // A repeated double as proto3 writes it by default: one length-delimited run of 8-byte values.
  ProtoMessage& packed_doubles(int field, const std::vector<double>& values);
  const std::string& encoded() const { return out_; }

 private:
  void tag(int field, int wire_type);
  void raw_varint(uint64_t value);
  std::string out_;
};

}  // namespace grpo::tensorboard
