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

std::string where(const std::filesystem::path& path) { return path.string() + ": "; }

}  // namespace

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
  if (file->size_ < 8) {  // too short to hold the header length (and mmap refuses 0 bytes)
    ::close(fd);
    const uint8_t unread[8] = {};
    parse_safetensors_header(unread, file->size_, path.string());  // throws, naming the size
  }
  // MAP_PRIVATE + PROT_WRITE: tensor views are writable copy-on-write; the file never changes.
  void* base = ::mmap(nullptr, file->size_, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
  ::close(fd);
  if (base == MAP_FAILED) throw Error(where(path) + "mmap failed: " + std::strerror(errno));
  file->base_ = static_cast<uint8_t*>(base);
  auto header = parse_safetensors_header(file->base_, file->size_, path.string());
  file->data_start_ = header.data_start;
  file->entries_ = std::move(header.entries);
  file->metadata_ = std::move(header.metadata);
  for (size_t i = 0; i < file->entries_.size(); ++i) file->index_[file->entries_[i].name] = i;
  return file;
}

SafetensorsFile::~SafetensorsFile() {
  if (base_) ::munmap(base_, size_);
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
