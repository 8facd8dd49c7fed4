// libFuzzer target for the GGUF reader (model/gguf/gguf_file.h) on arbitrary bytes, read from
// memory so that ASan sees every read. Properties: a rejected file throws grpo::Error naming the
// file (any other exception escapes and is a finding); an accepted file has every tensor's bytes
// inside the input at an aligned offset, a byte size that matches its type and element count, a
// name find_tensor() finds, and metadata whose typed accessors return or throw grpo::Error.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "core/error.h"
#include "fuzz/fuzz_check.h"
#include "model/gguf/gguf_file.h"

using grpo::fuzz::check;
using grpo::model::gguf::GgufFile;
using grpo::model::gguf::GgufValueType;

namespace {

const std::string kName = "fuzz.gguf";

template <class Read>
void read_or_type_error(Read read) {
  try {
    read();
  } catch (const grpo::Error& e) {
    check(std::string(e.what()).rfind(kName, 0) == 0,
          [&] { return "a metadata type error names the file: " + std::string(e.what()); });
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::shared_ptr<GgufFile> file;
  try {
    file = GgufFile::from_bytes(std::vector<uint8_t>(data, data + size), kName);
  } catch (const grpo::Error& e) {
    check(std::string(e.what()).rfind(kName, 0) == 0,
          [&] { return "a rejection names the file: " + std::string(e.what()); });
    return 0;
  }
  check(file->alignment() > 0, "alignment is positive");
  for (const auto& t : file->tensors()) {
    check(t.type != nullptr, [&] { return "tensor '" + t.name + "' has a type"; });
    check(t.offset <= size && t.nbytes <= size - t.offset,
          [&] { return "tensor '" + t.name + "' lies inside the file"; });
    check(t.offset % file->alignment() == 0, [&] { return "tensor '" + t.name + "' is aligned"; });
    check(!t.dims.empty() && t.dims.size() <= 4, [&] { return "tensor '" + t.name + "' has 1 to 4 dimensions"; });
    int64_t numel = 1;
    for (int64_t d : t.dims) {
      check(d >= 0, [&] { return "tensor '" + t.name + "' has no negative dimension"; });
      numel *= d;
    }
    check(numel == t.numel, [&] { return "tensor '" + t.name + "' numel is the product of its dimensions"; });
    check(static_cast<uint64_t>(t.numel) % t.type->block_size == 0 &&
              t.nbytes == static_cast<uint64_t>(t.numel) / t.type->block_size * t.type->type_size,
          [&] { return "tensor '" + t.name + "' byte size matches its type"; });
    const auto* found = file->find_tensor(t.name);
    check(found != nullptr && found->name == t.name, [&] { return "find_tensor finds '" + t.name + "'"; });
    if (t.nbytes > 0) check(file->data(t)[t.nbytes - 1] == data[t.offset + t.nbytes - 1], "data() points at the tensor's bytes");
  }
  for (const auto& entry : file->metadata()) {
    const std::string& key = entry.first;  // a plain reference: C++17 lambdas cannot capture bindings
    const auto& value = entry.second;
    check(file->find(key) == &value, [&] { return "find() returns the stored value of '" + key + "'"; });
    if (value.type == GgufValueType::kString) check(value.strings.size() == 1, "a string value holds one string");
    read_or_type_error([&] { file->integer(key); });
    read_or_type_error([&] { file->number(key); });
    read_or_type_error([&] { file->boolean(key); });
    read_or_type_error([&] { file->string(key); });
    read_or_type_error([&] { file->string_array(key); });
    read_or_type_error([&] { file->float_array(key); });
    read_or_type_error([&] { file->int32_array(key); });
  }
  read_or_type_error([&] { file->required_integer("general.no_such_key"); });
  return 0;
}
