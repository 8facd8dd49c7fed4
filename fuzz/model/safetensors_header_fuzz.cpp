// libFuzzer target for the safetensors header and tensor table (model/io/safetensors_header.h), the
// parser SafetensorsFile runs on every mapped checkpoint, on arbitrary bytes held in memory so that
// ASan sees every read (libFuzzer hands each input over in a heap block of exactly its size, so a
// read past the file's end is flagged). Properties: a rejected file throws grpo::Error naming the
// file (any other exception escapes and is a finding); an accepted file has its data section after
// the header inside the input, every tensor's byte range inside that section with a size equal to
// the product of its shape times its dtype's size (computed here in 128 bits, so a wrapped
// multiplication in the parser shows), no two tensors sharing a byte, and unique names in order.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "core/error.h"
#include "fuzz/fuzz_check.h"
#include "model/io/safetensors_header.h"

using grpo::fuzz::check;
using grpo::model::SafetensorsHeader;
using grpo::model::TensorEntry;

namespace {

const std::string kName = "fuzz.safetensors";

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  SafetensorsHeader header;
  try {
    header = grpo::model::parse_safetensors_header(data, size, kName);
  } catch (const grpo::Error& e) {
    check(std::string(e.what()).rfind(kName, 0) == 0,
          [&] { return "a rejection names the file: " + std::string(e.what()); });
    return 0;
  }
  check(header.data_start >= 8 && header.data_start <= size, "the data section starts inside the file");
  const uint64_t data_size = size - header.data_start;
  std::set<std::string> names;
  std::vector<const TensorEntry*> filled;
  for (const auto& t : header.entries) {
    check(names.insert(t.name).second, [&] { return "tensor '" + t.name + "' is listed once"; });
    check(t.name != "__metadata__", "__metadata__ is not a tensor");
    check(t.begin <= t.end && t.end <= data_size,
          [&] { return "tensor '" + t.name + "' lies inside the data section"; });
    unsigned __int128 nbytes = grpo::model::safetensors_dtype_size(t.dtype);
    for (int64_t d : t.shape) {
      check(d >= 0, [&] { return "tensor '" + t.name + "' has no negative dimension"; });
      nbytes *= static_cast<uint64_t>(d);
      if (nbytes > UINT64_MAX) nbytes = static_cast<unsigned __int128>(UINT64_MAX) + 1;  // stays above any range
    }
    check(nbytes == t.end - t.begin, [&] { return "tensor '" + t.name + "' holds numel x dtype size bytes"; });
    if (t.end > t.begin) filled.push_back(&t);
  }
  std::sort(filled.begin(), filled.end(), [](const TensorEntry* a, const TensorEntry* b) { return a->begin < b->begin; });
  for (size_t i = 1; i < filled.size(); ++i)
    check(filled[i]->begin >= filled[i - 1]->end,
          [&] { return "tensors '" + filled[i - 1]->name + "' and '" + filled[i]->name + "' share no byte"; });
  check(std::is_sorted(header.entries.begin(), header.entries.end(),
                       [](const TensorEntry& a, const TensorEntry& b) { return a.name < b.name; }),
        "entries are sorted by name");
  return 0;
}
