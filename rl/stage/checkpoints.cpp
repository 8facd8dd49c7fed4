// Atomic training checkpoints with pruning; see checkpoints.h.
#include "core/filesystem.h"
#include "rl/stage/checkpoints.h"

#include <algorithm>
#include <fstream>

#include "core/error.h"
#include "core/run_directory.h"
#include "core/strings.h"
#include "model/io/model_io.h"
#include "model/lora/lora_adapters.h"
#include "model/lora/peft_format.h"

namespace fs = std::filesystem;

namespace grpo::rl {
namespace {

// step-N -> N; -1 for anything else (including step-N.tmp).
int64_t step_of(const fs::path& dir) {
  const std::string name = dir.filename().string();
  if (name.rfind("step-", 0) != 0) return -1;
  const std::string digits = name.substr(5);
  const auto step = parse_decimal(digits);
  return step && *step <= static_cast<uint64_t>(INT64_MAX) ? static_cast<int64_t>(*step) : -1;
}

std::vector<std::pair<int64_t, fs::path>> complete_checkpoints(const fs::path& root) {
  std::vector<std::pair<int64_t, fs::path>> found;
  std::error_code ec;
  if (!fs::is_directory(root, ec)) return found;
  for (const auto& e : fs::directory_iterator(root)) {
    const int64_t step = e.is_directory() ? step_of(e.path()) : -1;
    if (step >= 0 && fs::exists(e.path() / "trainer_state.json")) found.emplace_back(step, e.path());
  }
  std::sort(found.begin(), found.end());
  return found;
}

}  // namespace

fs::path save_checkpoint(const fs::path& checkpoints_dir, const TrainerState& state,
                         const CheckpointContents& contents, int64_t keep_last) {
  require(contents.policy != nullptr, "save_checkpoint: no policy");
  const fs::path final_dir = checkpoints_dir / ("step-" + std::to_string(state.step));
  const fs::path tmp = checkpoints_dir / ("step-" + std::to_string(state.step) + ".tmp");
  remove_tree(tmp);
  fs::create_directories(tmp);
  model::SaveOptions save;
  save.source_dir = contents.policy->source_dir;
  if (model::has_lora(contents.policy->model)) model::save_adapter(contents.policy->model, save.source_dir, tmp);
  else model::save_model(contents.policy->model, tmp, save);
  if (contents.reference) model::save_model(*contents.reference, tmp / "reference", save);
  if (contents.optimizer) contents.optimizer->save(tmp);
  nlohmann::json js = {{"version", kTrainerStateVersion}, {"step", state.step}, {"data", state.data},
                       {"extra", state.extra}};
  write_file_atomic((tmp / "trainer_state.json").string(), js.dump(2) + "\n");
  remove_tree(final_dir);
  fs::rename(tmp, final_dir);
  const auto all = complete_checkpoints(checkpoints_dir);
  for (size_t i = 0; keep_last > 0 && i + keep_last < all.size(); ++i) remove_tree(all[i].second);
  return final_dir;
}

std::optional<fs::path> latest_checkpoint(const fs::path& checkpoints_dir) {
  const auto all = complete_checkpoints(checkpoints_dir);
  if (all.empty()) return std::nullopt;
  return all.back().second;
}

TrainerState read_trainer_state(const fs::path& checkpoint_dir) {
  const fs::path path = checkpoint_dir / "trainer_state.json";
  std::ifstream in(path);
  if (!in) throw Error(SourceLocation{path.string(), 0, 0}, "cannot open trainer state");
  nlohmann::json js;
  try {
    js = nlohmann::json::parse(in);
  } catch (const nlohmann::json::exception& e) {
    throw Error(SourceLocation{path.string(), 0, 0}, std::string("malformed trainer state: ") + e.what());
  }
  const int version = js.value("version", 0);
  if (version != kTrainerStateVersion)
    throw Error(SourceLocation{path.string(), 0, 0},
                "trainer state version " + std::to_string(version) + " is not " + std::to_string(kTrainerStateVersion));
  TrainerState s;
  s.step = js.at("step").get<int64_t>();
  s.data = js.value("data", nlohmann::json::object());
  s.extra = js.value("extra", nlohmann::json::object());
  return s;
}

}  // namespace grpo::rl
