// GGUF summary for `grpo model info`; see gguf_info.h.
#include "model/gguf/gguf_info.h"

#include <sstream>

#include "model/gguf/gguf_hf_mapping.h"

namespace grpo::model::gguf {

GgufSummary summarize_gguf(const GgufFile& file) {
  GgufSummary s;
  s.version = file.version();
  s.architecture = file.required_string("general.architecture");
  s.name = file.string("general.name").value_or("");
  for (const auto& t : file.tensors()) {
    ++s.tensors_per_type[t.type->name];
    s.parameters += t.numel;
  }
  s.tensor_count = static_cast<int64_t>(file.tensors().size());
  s.config = model_config_from_gguf(file);
  return s;
}

std::string format_gguf_summary(const GgufSummary& s) {
  std::ostringstream out;
  out << "GGUF version:      " << s.version << "\n";
  out << "GGUF architecture: " << s.architecture << (s.name.empty() ? "" : " (" + s.name + ")") << "\n";
  out << "tensor types:      ";
  bool first = true;
  for (const auto& [type, count] : s.tensors_per_type) {
    out << (first ? "" : ", ") << type << " x" << count;
    first = false;
  }
  out << " (" << s.tensor_count << " tensors)\n";
  out << "elements in file:  " << s.parameters << "\n";
  return out.str();
}

}  // namespace grpo::model::gguf
