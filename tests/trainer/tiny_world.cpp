// The copy task, tiny configs and the shared noisy teacher; see tiny_world.h.
#include "core/filesystem.h"
#include "tests/trainer/tiny_world.h"

#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <random>

#include "datasets/reader.h"
#include "datasets/responses.h"
#include "model/io/model_io.h"
#include "policy/evaluation.h"
#include "rl/trainer/sft_trainer.h"

namespace fs = std::filesystem;

namespace grpo::testing {

fs::path fresh_dir(const std::string& name) {
  // grpo…_<pid>: removed at exit by tests/common/scratch_cleanup.cpp.
  const auto dir = fs::temp_directory_path() / ("grpo_trainer_" + name + "_" + std::to_string(::getpid()));
  remove_tree(dir);
  fs::create_directories(dir);
  return dir;
}

std::vector<datasets::Record> copy_records(int64_t count, bool held_out, uint64_t seed) {
  std::vector<datasets::Record> all;
  int index = 0;
  for (int a = 1; a <= 9; ++a)
    for (int b = 1; b <= 9; ++b)
      for (int c = 1; c <= 9; ++c, ++index) {
        if ((index % 4 == 0) != held_out) continue;
        datasets::Record r;
        r.id = "copy-" + std::to_string(index);
        r.prompt = "copy " + std::to_string(a) + " " + std::to_string(b) + " " + std::to_string(c) + " =";
        r.answer = std::to_string(a * 100 + b * 10 + c);
        all.push_back(std::move(r));
      }
  std::shuffle(all.begin(), all.end(), std::mt19937_64(seed));
  all.resize(std::min<size_t>(all.size(), static_cast<size_t>(count)));
  return all;
}

fs::path write_tiny_config(const fs::path& dir) {
  const auto path = dir / "config.json";
  std::ofstream(path) << R"({"architectures": ["Qwen2ForCausalLM"], "model_type": "qwen2", "hidden_size": 64,
 "intermediate_size": 128, "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2,
 "max_position_embeddings": 128, "rms_norm_eps": 1e-06, "rope_theta": 10000.0, "tie_word_embeddings": true,
 "vocab_size": 320, "hidden_act": "silu", "torch_dtype": "float32"})";
  return path;
}

ExperimentConfig load_yaml(const fs::path& dir, const std::string& name, const std::string& yaml,
                           const std::vector<std::string>& overrides) {
  const auto path = dir / name;
  std::ofstream(path) << yaml;
  return load_experiment_config(path.string(), overrides);
}

namespace {

TinyWorld build_world() {
  TinyWorld w;
  w.root = fresh_dir("world");
  w.train_jsonl = w.root / "train.jsonl";
  w.eval_jsonl = w.root / "eval.jsonl";
  datasets::write_jsonl(w.train_jsonl.string(), copy_records(300, false, 1));
  datasets::write_jsonl(w.eval_jsonl.string(), copy_records(60, true, 2));
  // The teacher learns from responses a quarter of which are wrong by 1..5. (At lr 0.01 this SFT
  // learned only the answer format on an AVX-512 machine, though it learned the copy elsewhere:
  // 0.003 learns both on every machine tried.)
  auto noisy = copy_records(300, false, 1);
  datasets::ResponseOptions ro;
  ro.styles = {{"<answer>{answer}</answer>", 0.25}};
  ro.seed = 3;
  datasets::add_responses(noisy, ro);
  datasets::write_jsonl((w.root / "teacher_train.jsonl").string(), noisy);
  write_tiny_config(w.root);
  auto cfg = load_yaml(w.root, "teacher.yaml", R"(
run: {name: teacher, seed: 1, device: cpu, dtype: float32, log_level: warn, threads: 1}
policy: {template: raw}
data: {train: {path: )" + (w.root / "teacher_train.jsonl").string() + R"(}}
sft: {mode: response, init_config: )" + (w.root / "config.json").string() + R"(, tokenizer_vocab: 320,
      epochs: 30, batch_size: 32, max_length: 32}
optim: {lr: 0.003, warmup_steps: 20, schedule: cosine, min_lr_ratio: 0.1, betas: [0.9, 0.98], weight_decay: 0.01}
train: {save_every: 0, keep_last: 1}
)");
  rl::RunRequest request;
  request.run_dir = (w.root / "teacher-run").string();
  request.config_text = config::to_yaml(cfg);
  w.teacher = fs::path(rl::run_sft(cfg, request)) / "final";

  model::CausalLM student(model::load_model_config(w.teacher));
  model::init_weights(student, 99);
  w.random_student = w.root / "random-student";
  model::SaveOptions so;
  so.source_dir = w.teacher;
  model::save_model(student, w.random_student, so);
  return w;
}

}  // namespace

const TinyWorld& tiny_world() {
  static const TinyWorld world = build_world();
  return world;
}

policy::PolicyBundle load_raw_policy(const fs::path& dir) {
  policy::PolicyLoad load;
  load.model_dir = dir;
  load.template_name = "raw";
  return policy::load_policy_bundle(load);
}

double eval_pass_at_1(const policy::PolicyBundle& policy, uint64_t seed) {
  auto records = datasets::read_dataset(tiny_world().eval_jsonl.string(), {}).records;
  rollout::EngineOptions eo;
  eo.slots = 64;
  eo.max_len = 32;
  rollout::RolloutEngine engine(policy.model, eo);
  rewards::RewardSet reward_set({{"math_accuracy", 1.0, nlohmann::json::object()}});
  policy::EvalOptions opts;
  opts.k = 4;
  opts.sampling.temperature = 1.0;
  opts.sampling.max_new_tokens = 8;
  opts.seed = seed;
  return policy::evaluate(engine, policy, records, reward_set, opts).summary.pass_at_1;
}

}  // namespace grpo::testing
