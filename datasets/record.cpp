// JSON output of records; see record.h.
#include "datasets/record.h"

#include <filesystem>
#include <fstream>

#include "core/error.h"
#include "core/text/json_lossy.h"

namespace grpo::datasets {

nlohmann::ordered_json record_to_json(const Record& record) {
  nlohmann::ordered_json out = nlohmann::ordered_json::object();
  out["id"] = record.id;
  if (record.is_chat()) {
    nlohmann::ordered_json messages = nlohmann::ordered_json::array();
    for (const auto& m : record.messages) messages.push_back({{"role", m.role}, {"content", m.content}});
    out["messages"] = std::move(messages);
  } else {
    out["prompt"] = record.prompt;
  }
  out["answer"] = record.answer;
  for (const auto& [key, value] : record.extra.items()) {
    if (!out.contains(key)) out[key] = value;
  }
  return out;
}

void write_jsonl(const std::string& path, const std::vector<Record>& records) {
  const auto parent = std::filesystem::path(path).parent_path();
  std::error_code ec;
  if (!parent.empty()) std::filesystem::create_directories(parent, ec);
  std::ofstream file(path, std::ios::binary | std::ios::trunc);
  if (!file) throw Error(path + ": cannot open for writing");
  for (const auto& record : records) file << json_dump_lossy(record_to_json(record)) << '\n';
  file.flush();
  if (!file) throw Error(path + ": write failed");
}

}  // namespace grpo::datasets
