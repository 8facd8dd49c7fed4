// Single-file and sharded checkpoint directories; see checkpoint.h.
#include "model/io/checkpoint.h"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <fstream>
#include <iterator>

#include "core/error.h"
#include "core/text/json_parse.h"

namespace grpo::model {
namespace fs = std::filesystem;

namespace {
constexpr const char* kIndexName = "model.safetensors.index.json";
constexpr const char* kSingleName = "model.safetensors";

nlohmann::json read_json_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(path.string() + ": cannot open");
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return parse_untrusted_json(text, path.string());
}

std::string shard_name(size_t i, size_t n) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "model-%05zu-of-%05zu.safetensors", i + 1, n);
  return buf;
}
}  // namespace

CheckpointReader::CheckpointReader(const fs::path& dir) : dir_(dir) {
  const auto index_path = dir / kIndexName;
  if (fs::exists(index_path)) {
    const auto index = read_json_file(index_path);
    if (!index.contains("weight_map") || !index["weight_map"].is_object())
      throw Error(index_path.string() + ": expected an object field 'weight_map' {tensor: file}");
    std::map<std::string, size_t> file_ids;
    for (const auto& [name, file] : index["weight_map"].items()) {
      if (!file.is_string()) throw Error(index_path.string() + ": weight_map['" + name + "'] is not a file name");
      const auto fname = file.get<std::string>();
      if (fname.find('/') != std::string::npos || fname == "..")
        throw Error(index_path.string() + ": weight_map['" + name + "'] = '" + fname + "' leaves the directory");
      auto [it, fresh] = file_ids.try_emplace(fname, files_.size());
      if (fresh) files_.push_back(SafetensorsFile::open(dir / fname));
      if (!files_[it->second]->contains(name))
        throw Error(index_path.string() + ": tensor '" + name + "' is assigned to " + fname + ", which does not contain it");
      where_[name] = it->second;
    }
    return;
  }
  const auto single = dir / kSingleName;
  if (!fs::exists(single))
    throw Error(dir.string() + ": no " + kSingleName + " or " + kIndexName + " (not a Hugging Face checkpoint directory)");
  files_.push_back(SafetensorsFile::open(single));
  for (const auto& e : files_[0]->entries()) where_[e.name] = 0;
}

std::vector<std::string> CheckpointReader::names() const {
  std::vector<std::string> out;
  for (const auto& [name, _] : where_) out.push_back(name);
  return out;
}

const TensorEntry& CheckpointReader::entry(const std::string& name) const {
  auto it = where_.find(name);
  if (it == where_.end()) throw Error(dir_.string() + ": checkpoint has no tensor '" + name + "'");
  return *files_[it->second]->find(name);
}

torch::Tensor CheckpointReader::tensor(const std::string& name) const {
  auto it = where_.find(name);
  if (it == where_.end()) throw Error(dir_.string() + ": checkpoint has no tensor '" + name + "'");
  return files_[it->second]->tensor(name);
}

void save_checkpoint(const fs::path& dir, const std::vector<std::pair<std::string, torch::Tensor>>& tensors,
                     uint64_t max_shard_bytes) {
  fs::create_directories(dir);
  for (const auto& e : fs::directory_iterator(dir)) {
    const auto name = e.path().filename().string();
    if (name == kIndexName || (name.rfind("model", 0) == 0 && e.path().extension() == ".safetensors"))
      fs::remove(e.path());
  }
  std::vector<std::vector<std::pair<std::string, torch::Tensor>>> shards(1);
  uint64_t current = 0, total = 0;
  for (const auto& item : tensors) {
    const uint64_t nbytes = static_cast<uint64_t>(item.second.numel()) * item.second.element_size();
    if (!shards.back().empty() && current + nbytes > max_shard_bytes) {
      shards.emplace_back();
      current = 0;
    }
    shards.back().push_back(item);
    current += nbytes;
    total += nbytes;
  }
  if (shards.size() == 1) {
    save_safetensors(dir / kSingleName, shards[0]);
    return;
  }
  nlohmann::ordered_json index;
  index["metadata"] = {{"total_size", total}};
  index["weight_map"] = nlohmann::ordered_json::object();
  for (size_t i = 0; i < shards.size(); ++i) {
    const auto fname = shard_name(i, shards.size());
    save_safetensors(dir / fname, shards[i]);
    for (const auto& [name, _] : shards[i]) index["weight_map"][name] = fname;
  }
  std::ofstream out(dir / kIndexName);
  out << index.dump(2) << "\n";
  if (!out) throw Error((dir / kIndexName).string() + ": write failed");
}

}  // namespace grpo::model
