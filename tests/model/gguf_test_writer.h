// A minimal GGUF writer for the GGUF tests: metadata of every kind the reader handles, tensors of
// any ggml type from raw block bytes, the data section aligned as llama.cpp writes it, and hooks
// to craft broken files (raw metadata bytes, any version, any offset). Test-only; it checks
// nothing, so that tests can write exactly the bad input they mean.
#pragma once

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace grpo::model::gguf::testing {

class GgufWriter {
 public:
  using Bytes = std::vector<uint8_t>;

  template <typename T>
  static void put(Bytes& out, T v) {
    uint8_t b[sizeof(T)];
    std::memcpy(b, &v, sizeof(T));
    out.insert(out.end(), b, b + sizeof(T));
  }
  static void put_string(Bytes& out, const std::string& s) {
    put<uint64_t>(out, s.size());
    out.insert(out.end(), s.begin(), s.end());
  }

  void u32(const std::string& key, uint32_t v) { scalar(key, 4, v); }
  void i32(const std::string& key, int32_t v) { scalar(key, 5, v); }
  void f32(const std::string& key, float v) { scalar(key, 6, v); }
  void boolean(const std::string& key, bool v) { scalar(key, 7, static_cast<uint8_t>(v)); }
  void string(const std::string& key, const std::string& v) {
    begin(key, 8);
    put_string(metadata_, v);
  }
  void strings(const std::string& key, const std::vector<std::string>& v) {
    begin_array(key, 8, v.size());
    for (const auto& s : v) put_string(metadata_, s);
  }
  void f32s(const std::string& key, const std::vector<float>& v) {
    begin_array(key, 6, v.size());
    for (float x : v) put(metadata_, x);
  }
  void i32s(const std::string& key, const std::vector<int32_t>& v) {
    begin_array(key, 5, v.size());
    for (int32_t x : v) put(metadata_, x);
  }
  // A metadata entry whose value bytes (type included) are exactly `value`.
  void raw(const std::string& key, const Bytes& value) {
    put_string(metadata_, key);
    metadata_.insert(metadata_.end(), value.begin(), value.end());
    ++n_metadata_;
  }

  // A tensor with ggml dims (innermost first) and its raw bytes. `offset_override` replaces the
  // computed data offset (for misaligned or out-of-range offsets).
  void tensor(const std::string& name, std::vector<uint64_t> dims, uint32_t type, Bytes data,
              int64_t offset_override = -1) {
    tensors_.push_back({name, std::move(dims), type, std::move(data), offset_override});
  }

  Bytes bytes(uint32_t version = 3) const {
    Bytes out = {'G', 'G', 'U', 'F'};
    put<uint32_t>(out, version);
    put<uint64_t>(out, tensors_.size());
    put<uint64_t>(out, n_metadata_);
    out.insert(out.end(), metadata_.begin(), metadata_.end());
    uint64_t offset = 0;
    std::vector<uint64_t> offsets;
    for (const auto& t : tensors_) {
      put_string(out, t.name);
      put<uint32_t>(out, static_cast<uint32_t>(t.dims.size()));
      for (uint64_t d : t.dims) put<uint64_t>(out, d);
      put<uint32_t>(out, t.type);
      const uint64_t at = t.offset_override >= 0 ? static_cast<uint64_t>(t.offset_override) : offset;
      put<uint64_t>(out, at);
      offsets.push_back(offset);
      offset += (t.data.size() + kAlignment - 1) / kAlignment * kAlignment;
    }
    out.resize((out.size() + kAlignment - 1) / kAlignment * kAlignment, 0);
    const size_t data_start = out.size();
    out.resize(data_start + offset, 0);
    for (size_t i = 0; i < tensors_.size(); ++i)
      std::memcpy(out.data() + data_start + offsets[i], tensors_[i].data.data(), tensors_[i].data.size());
    return out;
  }

  void write(const std::filesystem::path& path, uint32_t version = 3) const { write_bytes(path, bytes(version)); }

  static void write_bytes(const std::filesystem::path& path, const Bytes& bytes) {
    std::ofstream out(path, std::ios::binary);
    out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  }

 private:
  static constexpr uint64_t kAlignment = 32;

  struct Tensor {
    std::string name;
    std::vector<uint64_t> dims;
    uint32_t type;
    Bytes data;
    int64_t offset_override;
  };

  void begin(const std::string& key, uint32_t type) {
    put_string(metadata_, key);
    put<uint32_t>(metadata_, type);
    ++n_metadata_;
  }
  void begin_array(const std::string& key, uint32_t element_type, uint64_t count) {
    begin(key, 9);
    put<uint32_t>(metadata_, element_type);
    put<uint64_t>(metadata_, count);
  }
  template <typename T>
  void scalar(const std::string& key, uint32_t type, T v) {
    begin(key, type);
    put(metadata_, v);
  }

  Bytes metadata_;
  uint64_t n_metadata_ = 0;
  std::vector<Tensor> tensors_;
};

}  // namespace grpo::model::gguf::testing
