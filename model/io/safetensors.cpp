// Safetensors reader (mmap + validated header) and writer; see safetensors.h.
#include "model/io/safetensors.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include <cstring>
#include <fstream>
#include <set>

#include "core/error.h"

namespace grpo::model {
namespace {

struct DtypeInfo {
  const char* name;
  size_t size;
};

constexpr DtypeInfo kDtypes[] = {
    {"BOOL", 1}, {"U8", 1},  {"I8", 1},  {"F8_E4M3", 1}, {"F8_E5M2", 1}, {"I16", 2}, {"U16", 2},
    {"F16", 2},  {"BF16", 2}, {"I32", 4}, {"U32", 4},     {"F32", 4},     {"F64", 8}, {"I64", 8},
    {"U64", 8},
};

std::string where(const std::filesystem::path& path) { return path.string() + ": "; }

// Multiplies with an overflow check: a hostile header must not wrap the size computation.
uint64_t checked_mul(uint64_t a, uint64_t b, const std::string& context) {
  if (a != 0 && b > UINT64_MAX / a) throw Error(context + ": shape overflows 64 bits");
  return a * b;
}

}  // namespace

size_t safetensors_dtype_size(const std::string& dtype) {
  for (const auto& d : kDtypes)
    if (dtype == d.name) return d.size;
  throw Error("unknown safetensors dtype '" + dtype +
              "' (expected one of BOOL U8 I8 I16 U16 F16 BF16 I32 U32 F32 F64 I64 U64 F8_E4M3 F8_E5M2)");
}

torch::Dtype safetensors_to_torch(const std::string& dtype, const std::string& tensor_name) {
  if (dtype == "F32") return torch::kFloat32;
  if (dtype == "BF16") return torch::kBFloat16;
  if (dtype == "F16") return torch::kFloat16;
  if (dtype == "F64") return torch::kFloat64;
  if (dtype == "I64") return torch::kInt64;
  if (dtype == "I32") return torch::kInt32;
  if (dtype == "I16") return torch::kInt16;
  if (dtype == "I8") return torch::kInt8;
  if (dtype == "U8") return torch::kUInt8;
  if (dtype == "BOOL") return torch::kBool;
  throw Error("tensor '" + tensor_name + "' has dtype " + dtype +
              ", which this LibTorch build cannot hold (FP8 checkpoints must be dequantized first)");
}

std::string torch_to_safetensors(torch::Dtype dtype) {
  switch (dtype) {
    case torch::kFloat32: return "F32";
    case torch::kBFloat16: return "BF16";
    case torch::kFloat16: return "F16";
    case torch::kFloat64: return "F64";
    case torch::kInt64: return "I64";
    case torch::kInt32: return "I32";
    case torch::kInt16: return "I16";
    case torch::kInt8: return "I8";
    case torch::kUInt8: return "U8";
    case torch::kBool: return "BOOL";
    default: throw Error(std::string("cannot write dtype ") + c10::toString(dtype) + " to safetensors");
  }
}

std::shared_ptr<SafetensorsFile> SafetensorsFile::open(const std::filesystem::path& path) {
  std::shared_ptr<SafetensorsFile> file(new SafetensorsFile());
  file->path_ = path;
  file->self_ = file;
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw Error(where(path) + "cannot open: " + std::strerror(errno));
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    ::close(fd);
    throw Error(where(path) + "cannot stat: " + std::strerror(errno));
  }
  file->size_ = static_cast<size_t>(st.st_size);
  if (file->size_ < 8) {
    ::close(fd);
    throw Error(where(path) + "truncated: " + std::to_string(file->size_) +
                " bytes, a safetensors file needs at least the 8-byte header length");
  }
  // MAP_PRIVATE + PROT_WRITE: tensor views are writable copy-on-write; the file never changes.
  void* base = ::mmap(nullptr, file->size_, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
  ::close(fd);
  if (base == MAP_FAILED) throw Error(where(path) + "mmap failed: " + std::strerror(errno));
  file->base_ = static_cast<uint8_t*>(base);
  file->parse_header();
  return file;
}

SafetensorsFile::~SafetensorsFile() {
  if (base_) ::munmap(base_, size_);
}

void SafetensorsFile::parse_header() {
  uint64_t header_len = 0;
  for (int i = 7; i >= 0; --i) header_len = (header_len << 8) | base_[i];
  if (header_len > size_ - 8)
    throw Error(where(path_) + "header length " + std::to_string(header_len) + " at byte offset 0 exceeds the " +
                std::to_string(size_ - 8) + " bytes after it (truncated file or not safetensors)");
  data_start_ = 8 + header_len;
  const uint64_t data_size = size_ - data_start_;
  nlohmann::json header;
  try {
    header = nlohmann::json::parse(reinterpret_cast<const char*>(base_ + 8),
                                   reinterpret_cast<const char*>(base_ + data_start_));
  } catch (const nlohmann::json::parse_error& e) {
    throw Error(where(path_) + "bad header JSON at byte offset " + std::to_string(8 + e.byte - 1) + ": " + e.what());
  } catch (const nlohmann::json::exception& e) {  // out_of_range: a number beyond a double
    throw Error(where(path_) + "bad header JSON: " + e.what());
  }
  if (!header.is_object()) throw Error(where(path_) + "header is not a JSON object");
  for (const auto& [name, value] : header.items()) {
    const std::string ctx = where(path_) + "tensor '" + name + "'";
    if (name == "__metadata__") {
      if (!value.is_object()) throw Error(where(path_) + "__metadata__ is not an object");
      for (const auto& [k, v] : value.items()) {
        if (!v.is_string()) throw Error(where(path_) + "__metadata__ value '" + k + "' is not a string");
        metadata_[k] = v.get<std::string>();
      }
      continue;
    }
    if (!value.is_object() || !value.contains("dtype") || !value.contains("shape") || !value.contains("data_offsets") ||
        !value["dtype"].is_string() || !value["shape"].is_array() || !value["data_offsets"].is_array() ||
        value["data_offsets"].size() != 2)
      throw Error(ctx + ": expected {\"dtype\": str, \"shape\": [int], \"data_offsets\": [begin, end]}");
    TensorEntry e;
    e.name = name;
    e.dtype = value["dtype"].get<std::string>();
    uint64_t numel = 1;
    for (const auto& d : value["shape"]) {
      if (!d.is_number_integer() || d.get<int64_t>() < 0) throw Error(ctx + ": shape has a non-integer or negative dimension");
      e.shape.push_back(d.get<int64_t>());
      numel = checked_mul(numel, static_cast<uint64_t>(e.shape.back()), ctx);
    }
    for (const auto& o : value["data_offsets"])
      if (!o.is_number_unsigned() && !(o.is_number_integer() && o.get<int64_t>() >= 0))
        throw Error(ctx + ": data_offsets must be non-negative integers");
    e.begin = value["data_offsets"][0].get<uint64_t>();
    e.end = value["data_offsets"][1].get<uint64_t>();
    size_t elem = 0;
    try {
      elem = safetensors_dtype_size(e.dtype);
    } catch (const Error& err) {
      throw Error(ctx + ": " + err.message());
    }
    const uint64_t nbytes = checked_mul(numel, elem, ctx);
    if (e.end < e.begin || e.end - e.begin != nbytes)
      throw Error(ctx + ": data_offsets [" + std::to_string(e.begin) + ", " + std::to_string(e.end) + ") hold " +
                  std::to_string(e.end - e.begin) + " bytes but shape x " + e.dtype + " needs " + std::to_string(nbytes));
    if (e.end > data_size)
      throw Error(ctx + ": data ends at byte offset " + std::to_string(data_start_ + e.end) + " but the file has " +
                  std::to_string(size_) + " bytes (truncated file)");
    index_[name] = entries_.size();
    entries_.push_back(std::move(e));
  }
}

const TensorEntry* SafetensorsFile::find(const std::string& name) const {
  auto it = index_.find(name);
  return it == index_.end() ? nullptr : &entries_[it->second];
}

torch::Tensor SafetensorsFile::tensor(const std::string& name) const {
  const TensorEntry* e = find(name);
  if (!e) throw Error(where(path_) + "no tensor named '" + name + "'");
  const auto dtype = safetensors_to_torch(e->dtype, name);
  uint8_t* data = base_ + data_start_ + e->begin;
  const size_t elem = safetensors_dtype_size(e->dtype);
  if (reinterpret_cast<uintptr_t>(data) % elem != 0) {
    auto out = torch::empty(e->shape, torch::TensorOptions().dtype(dtype));
    std::memcpy(out.data_ptr(), data, e->end - e->begin);
    return out;
  }
  // The deleter holds the file open for as long as any view of it lives.
  auto keep = self_.lock();
  return torch::from_blob(data, e->shape, [keep](void*) {}, torch::TensorOptions().dtype(dtype));
}

void save_safetensors(const std::filesystem::path& path,
                      const std::vector<std::pair<std::string, torch::Tensor>>& tensors,
                      const std::map<std::string, std::string>& metadata) {
  auto header = nlohmann::ordered_json::object();
  if (!metadata.empty()) header["__metadata__"] = metadata;
  std::vector<torch::Tensor> blobs;
  std::set<std::string> seen;
  uint64_t offset = 0;
  for (const auto& [name, t] : tensors) {
    if (!seen.insert(name).second) throw Error(where(path) + "tensor '" + name + "' given twice");
    auto cpu = t.detach().to(torch::kCPU).contiguous();
    const uint64_t nbytes = static_cast<uint64_t>(cpu.numel()) * cpu.element_size();
    header[name] = {{"dtype", torch_to_safetensors(cpu.scalar_type())},
                    {"shape", cpu.sizes().vec()},
                    {"data_offsets", {offset, offset + nbytes}}};
    offset += nbytes;
    blobs.push_back(std::move(cpu));
  }
  std::string text = header.dump();
  text.append((8 - text.size() % 8) % 8, ' ');  // keeps the data section 8-byte aligned
  const auto tmp = path.string() + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) throw Error(where(path) + "cannot write " + tmp);
    uint8_t len[8];
    uint64_t n = text.size();
    for (int i = 0; i < 8; ++i) len[i] = static_cast<uint8_t>(n >> (8 * i));
    out.write(reinterpret_cast<const char*>(len), 8);
    out.write(text.data(), static_cast<std::streamsize>(text.size()));
    for (const auto& b : blobs)
      out.write(static_cast<const char*>(b.data_ptr()), static_cast<std::streamsize>(b.numel() * b.element_size()));
    if (!out) throw Error(where(path) + "write failed (disk full?)");
  }
  std::filesystem::rename(tmp, path);
}

}  // namespace grpo::model
