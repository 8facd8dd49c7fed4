// GGUF reader; see gguf_file.h. A Cursor walks the mapping and refuses to step past its end, so
// a length or count is checked against the bytes left before anything is sized from it (an
// array of n strings needs at least 8n bytes; n scalars need n * size).
#include "model/gguf/gguf_file.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <limits>
#include <utility>

#include "core/error.h"

namespace grpo::model::gguf {
namespace {

constexpr uint32_t kMaxDims = 4;  // GGML_MAX_DIMS
constexpr const char* kAlignmentKey = "general.alignment";

size_t scalar_size(GgufValueType type) {
  switch (type) {
    case GgufValueType::kU8: case GgufValueType::kI8: case GgufValueType::kBool: return 1;
    case GgufValueType::kU16: case GgufValueType::kI16: return 2;
    case GgufValueType::kU32: case GgufValueType::kI32: case GgufValueType::kF32: return 4;
    case GgufValueType::kU64: case GgufValueType::kI64: case GgufValueType::kF64: return 8;
    default: return 0;  // string and array have no fixed size
  }
}

class Cursor {
 public:
  Cursor(const uint8_t* base, uint64_t size, const std::string& file) : base_(base), size_(size), file_(file) {}

  uint64_t pos() const { return pos_; }
  uint64_t left() const { return size_ - pos_; }

  // Throws unless `n` more bytes exist; `what` says what they were meant to hold.
  void need(uint64_t n, const std::string& what) const {
    if (n > left())
      throw Error(file_ + ": " + what + " runs past the end of the file (needs " + std::to_string(n) +
                  " bytes at offset " + std::to_string(pos_) + ", file has " + std::to_string(size_) + ")");
  }

  // Throws unless `count` items of at least `min_bytes` each can fit in the bytes left.
  void need_items(uint64_t count, uint64_t min_bytes, const std::string& what) const {
    if (count > left() / min_bytes)
      throw Error(file_ + ": " + what + ": " + std::to_string(count) + " entries of at least " + std::to_string(min_bytes) +
                  " bytes each run past the end of the file (" + std::to_string(left()) + " bytes left at offset " +
                  std::to_string(pos_) + ", file has " + std::to_string(size_) + ")");
  }

  template <typename T>
  T read(const std::string& what) {
    need(sizeof(T), what);
    T v;
    std::memcpy(&v, base_ + pos_, sizeof(T));
    pos_ += sizeof(T);
    return v;
  }

  std::string read_string(const std::string& what) {
    const uint64_t length = read<uint64_t>(what + " (its length)");
    need(length, what + " (a string of " + std::to_string(length) + " bytes)");
    std::string s(reinterpret_cast<const char*>(base_ + pos_), length);
    pos_ += length;
    return s;
  }

  void read_bytes(uint64_t n, std::vector<uint8_t>& out, const std::string& what) {
    need(n, what);
    out.assign(base_ + pos_, base_ + pos_ + n);
    pos_ += n;
  }

 private:
  const uint8_t* base_;
  uint64_t size_;
  uint64_t pos_ = 0;
  const std::string& file_;
};

GgufValueType read_value_type(Cursor& c, const std::string& file, const std::string& what) {
  const uint32_t raw = c.read<uint32_t>(what + " type");
  if (raw > static_cast<uint32_t>(GgufValueType::kF64))
    throw Error(file + ": " + what + " has unknown value type " + std::to_string(raw) + " (expected 0 to 12)");
  return static_cast<GgufValueType>(raw);
}

GgufValue read_array(Cursor& c, const std::string& file, const std::string& what) {
  GgufValue v;
  v.type = GgufValueType::kArray;
  v.element_type = read_value_type(c, file, what + " element");
  if (v.element_type == GgufValueType::kArray)
    throw Error(file + ": " + what + " is an array of arrays, which GGUF readers do not support");
  v.count = c.read<uint64_t>(what + " element count");
  const std::string elements = what + " (an array of " + value_type_name(v.element_type) + ")";
  if (v.element_type == GgufValueType::kString) {
    // Each string is at least its 8-byte length: reject the count before growing anything.
    c.need_items(v.count, 8, elements);
    for (uint64_t i = 0; i < v.count; ++i) v.strings.push_back(c.read_string(what + "[" + std::to_string(i) + "]"));
    return v;
  }
  const size_t size = scalar_size(v.element_type);
  c.need_items(v.count, size, elements);
  c.read_bytes(v.count * size, v.bytes, elements);
  return v;
}

GgufValue read_value(Cursor& c, const std::string& file, const std::string& key) {
  const std::string what = "metadata '" + key + "'";
  const GgufValueType type = read_value_type(c, file, what);
  if (type == GgufValueType::kArray) return read_array(c, file, what);
  GgufValue v;
  v.type = type;
  if (type == GgufValueType::kString) v.strings.push_back(c.read_string(what));
  else c.read_bytes(scalar_size(type), v.bytes, what);
  return v;
}

uint64_t checked_mul(uint64_t a, uint64_t b, const std::string& file, const std::string& what) {
  if (a != 0 && b > std::numeric_limits<uint64_t>::max() / a) throw Error(file + ": " + what + " overflows 64 bits");
  return a * b;
}

GgufTensor read_tensor_info(Cursor& c, const std::string& file, uint64_t index) {
  GgufTensor t;
  t.name = c.read_string("tensor info " + std::to_string(index) + " name");
  const std::string what = "tensor '" + t.name + "'";
  const uint32_t n_dims = c.read<uint32_t>(what + " dimension count");
  if (n_dims == 0 || n_dims > kMaxDims)
    throw Error(file + ": " + what + " has " + std::to_string(n_dims) + " dimensions (expected 1 to 4)");
  uint64_t numel = 1;
  for (uint32_t i = 0; i < n_dims; ++i) {
    const uint64_t d = c.read<uint64_t>(what + " dimension " + std::to_string(i));
    // Checked on its own: next to a dimension of 0 the element count stays 0 however large d is.
    if (d > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
      throw Error(file + ": " + what + " dimension " + std::to_string(i) + " is " + std::to_string(d) +
                  ", more than 2^63 - 1");
    numel = checked_mul(numel, d, file, what + "'s element count");
    if (numel > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
      throw Error(file + ": " + what + "'s element count overflows 63 bits");
    t.dims.push_back(static_cast<int64_t>(d));
  }
  t.numel = static_cast<int64_t>(numel);
  const uint32_t type_id = c.read<uint32_t>(what + " type");
  t.type = find_ggml_type(type_id);
  if (!t.type) throw Error(file + ": unknown tensor type " + std::to_string(type_id) + " for " + what);
  t.offset = c.read<uint64_t>(what + " data offset");
  if (t.dims[0] % t.type->block_size != 0)
    throw Error(file + ": " + what + " has an innermost dimension of " + std::to_string(t.dims[0]) +
                ", not a multiple of " + t.type->name + "'s block of " + std::to_string(t.type->block_size));
  t.nbytes = checked_mul(numel / t.type->block_size, t.type->type_size, file, what + "'s byte size");
  return t;
}

}  // namespace

const char* value_type_name(GgufValueType type) {
  static const char* kNames[] = {"u8", "i8", "u16", "i16", "u32", "i32", "f32", "bool", "string", "array", "u64", "i64", "f64"};
  const auto i = static_cast<uint32_t>(type);
  return i < sizeof kNames / sizeof kNames[0] ? kNames[i] : "unknown";
}

std::shared_ptr<GgufFile> GgufFile::open(const std::filesystem::path& path) {
  std::shared_ptr<GgufFile> file(new GgufFile());
  file->path_ = path;
  const std::string name = path.string();
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw Error(name + ": cannot open: " + std::strerror(errno));
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    throw Error(name + ": not a regular file");
  }
  file->size_ = static_cast<uint64_t>(st.st_size);
  if (file->size_ == 0) {
    ::close(fd);
    throw Error(name + ": empty file, expected a GGUF file (magic 'GGUF')");
  }
  void* base = ::mmap(nullptr, file->size_, PROT_READ, MAP_PRIVATE, fd, 0);
  ::close(fd);
  if (base == MAP_FAILED) throw Error(name + ": mmap failed: " + std::strerror(errno));
  file->base_ = static_cast<uint8_t*>(base);
  file->mapped_ = true;
  file->parse();
  return file;
}

std::shared_ptr<GgufFile> GgufFile::from_bytes(std::vector<uint8_t> bytes, const std::string& name) {
  if (bytes.empty()) throw Error(name + ": empty file, expected a GGUF file (magic 'GGUF')");
  std::shared_ptr<GgufFile> file(new GgufFile());
  file->path_ = name;
  file->owned_ = std::move(bytes);
  file->base_ = file->owned_.data();
  file->size_ = file->owned_.size();
  file->parse();
  return file;
}

GgufFile::~GgufFile() {
  if (mapped_) ::munmap(base_, size_);
}

void GgufFile::parse() {
  const std::string file = path_.string();
  Cursor c(base_, size_, file);
  c.need(4, "the magic 'GGUF'");
  if (std::memcmp(base_, "GGUF", 4) != 0) {
    char got[32];
    std::snprintf(got, sizeof got, "%02x %02x %02x %02x", base_[0], base_[1], base_[2], base_[3]);
    throw Error(file + ": bad magic: the file starts with bytes " + got + ", expected 'GGUF' (47 47 55 46)");
  }
  c.read<uint32_t>("the magic");
  version_ = c.read<uint32_t>("the version");
  if (version_ != 2 && version_ != 3)
    throw Error(file + ": GGUF version " + std::to_string(version_) + " is not supported (expected 2 or 3" +
                (version_ == 1 ? "; version 1 files predate 64-bit counts, convert again with a current llama.cpp)" : ")"));
  const uint64_t n_tensors = c.read<uint64_t>("the tensor count");
  const uint64_t n_metadata = c.read<uint64_t>("the metadata count");
  // A key/value takes at least 13 bytes (key length, type, one byte); a tensor info 24.
  c.need_items(n_metadata, 13, "the metadata");
  for (uint64_t i = 0; i < n_metadata; ++i) {
    std::string key = c.read_string("metadata key " + std::to_string(i));
    if (metadata_.count(key)) throw Error(file + ": metadata key '" + key + "' appears twice");
    GgufValue value = read_value(c, file, key);
    metadata_.emplace(std::move(key), std::move(value));
  }
  c.need_items(n_tensors, 24, "the tensor infos");
  for (uint64_t i = 0; i < n_tensors; ++i) {
    GgufTensor t = read_tensor_info(c, file, i);
    if (tensor_index_.count(t.name)) throw Error(file + ": tensor '" + t.name + "' appears twice");
    tensor_index_[t.name] = tensors_.size();
    tensors_.push_back(std::move(t));
  }
  if (find(kAlignmentKey)) {
    alignment_ = static_cast<uint64_t>(*integer(kAlignmentKey));
    if (find(kAlignmentKey)->type != GgufValueType::kU32 || alignment_ == 0 || (alignment_ & (alignment_ - 1)) != 0)
      throw Error(file + ": metadata '" + kAlignmentKey + "' must be a u32 power of two, got " + std::to_string(alignment_));
  }
  const uint64_t padding = (alignment_ - c.pos() % alignment_) % alignment_;
  const uint64_t data_start = c.pos() + padding;
  for (auto& t : tensors_) {
    if (t.offset % alignment_ != 0)
      throw Error(file + ": tensor '" + t.name + "' has data offset " + std::to_string(t.offset) +
                  ", not a multiple of the alignment " + std::to_string(alignment_));
    const bool inside = data_start <= size_ && t.offset <= size_ - data_start && t.nbytes <= size_ - data_start - t.offset;
    if (!inside)
      throw Error(file + ": tensor '" + t.name + "' runs past the end of the file (needs " + std::to_string(t.nbytes) +
                  " bytes at offset " + std::to_string(data_start) + " + " + std::to_string(t.offset) + ", file has " +
                  std::to_string(size_) + ")");
    t.offset += data_start;
  }
}

const GgufTensor* GgufFile::find_tensor(const std::string& name) const {
  auto it = tensor_index_.find(name);
  return it == tensor_index_.end() ? nullptr : &tensors_[it->second];
}

const GgufValue* GgufFile::find(const std::string& key) const {
  auto it = metadata_.find(key);
  return it == metadata_.end() ? nullptr : &it->second;
}

const GgufValue* GgufFile::typed(const std::string& key, GgufValueType type, GgufValueType element) const {
  const GgufValue* v = find(key);
  if (!v) return nullptr;
  const bool array = type == GgufValueType::kArray;
  if (v->type != type || (array && v->element_type != element)) {
    const std::string want = array ? std::string("an array of ") + value_type_name(element) : value_type_name(type);
    const std::string got = v->type == GgufValueType::kArray
                                ? std::string("an array of ") + value_type_name(v->element_type)
                                : value_type_name(v->type);
    throw Error(path_.string() + ": metadata '" + key + "' must be " + want + ", got " + got);
  }
  return v;
}

std::optional<int64_t> GgufFile::integer(const std::string& key) const {
  const GgufValue* v = find(key);
  if (!v) return std::nullopt;
  const auto bad = [&](const std::string& why) {
    return Error(path_.string() + ": metadata '" + key + "' " + why);
  };
  if (v->type == GgufValueType::kArray || v->type == GgufValueType::kString || v->type == GgufValueType::kBool ||
      v->type == GgufValueType::kF32 || v->type == GgufValueType::kF64)
    throw bad(std::string("must be an integer, got ") + value_type_name(v->type));
  const uint8_t* p = v->bytes.data();
  auto load = [p](auto zero) {
    decltype(zero) x;
    std::memcpy(&x, p, sizeof x);
    return x;
  };
  switch (v->type) {
    case GgufValueType::kU8: return load(uint8_t{});
    case GgufValueType::kI8: return load(int8_t{});
    case GgufValueType::kU16: return load(uint16_t{});
    case GgufValueType::kI16: return load(int16_t{});
    case GgufValueType::kU32: return load(uint32_t{});
    case GgufValueType::kI32: return load(int32_t{});
    case GgufValueType::kI64: return load(int64_t{});
    default: {
      const uint64_t u = load(uint64_t{});
      if (u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) throw bad("value " + std::to_string(u) + " is too large");
      return static_cast<int64_t>(u);
    }
  }
}

std::optional<double> GgufFile::number(const std::string& key) const {
  const GgufValue* v = find(key);
  if (!v) return std::nullopt;
  if (v->type == GgufValueType::kF32) {
    float f;
    std::memcpy(&f, v->bytes.data(), sizeof f);
    return f;
  }
  if (v->type == GgufValueType::kF64) {
    double d;
    std::memcpy(&d, v->bytes.data(), sizeof d);
    return d;
  }
  return static_cast<double>(*integer(key));
}

std::optional<bool> GgufFile::boolean(const std::string& key) const {
  const GgufValue* v = typed(key, GgufValueType::kBool, GgufValueType::kBool);
  if (!v) return std::nullopt;
  return v->bytes[0] != 0;
}

std::optional<std::string> GgufFile::string(const std::string& key) const {
  const GgufValue* v = typed(key, GgufValueType::kString, GgufValueType::kString);
  if (!v) return std::nullopt;
  return v->strings[0];
}

std::vector<std::string> GgufFile::string_array(const std::string& key) const {
  const GgufValue* v = typed(key, GgufValueType::kArray, GgufValueType::kString);
  return v ? v->strings : std::vector<std::string>{};
}

std::vector<float> GgufFile::float_array(const std::string& key) const {
  const GgufValue* v = typed(key, GgufValueType::kArray, GgufValueType::kF32);
  std::vector<float> out(v ? v->count : 0);
  if (v && !v->bytes.empty()) std::memcpy(out.data(), v->bytes.data(), v->bytes.size());  // empty: both null
  return out;
}

std::vector<int32_t> GgufFile::int32_array(const std::string& key) const {
  const GgufValue* v = typed(key, GgufValueType::kArray, GgufValueType::kI32);
  std::vector<int32_t> out(v ? v->count : 0);
  if (v && !v->bytes.empty()) std::memcpy(out.data(), v->bytes.data(), v->bytes.size());  // empty: both null
  return out;
}

int64_t GgufFile::required_integer(const std::string& key) const {
  const auto v = integer(key);
  if (!v) throw Error(path_.string() + ": missing metadata '" + key + "' (an integer)");
  return *v;
}

std::string GgufFile::required_string(const std::string& key) const {
  const auto v = string(key);
  if (!v) throw Error(path_.string() + ": missing metadata '" + key + "' (a string)");
  return *v;
}

}  // namespace grpo::model::gguf
