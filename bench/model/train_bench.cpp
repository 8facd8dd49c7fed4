// Training throughput of the policy: forward + backward + AdamW tokens/s on a random model of a
// given shape, printed as one JSON object beside transformers' eager baseline for the same
// config (read from the JSON that .shared/baselines/hf_baselines.py prints, when given).
// Shapes: qwen05 (Qwen2.5-0.5B), moe-mla (the DeepSeek-V3-style MoE/MLA config of
// hf_baselines.py), tiny (a CPU smoke run). The step is the trainers' own: StageOptimizer (flat
// float32 masters, fused AdamW on CUDA, gradient clipping with its host read), computing in bf16
// on CUDA; the baseline keeps bf16 weights and AdamW state without masters. The loss is
// next-token cross-entropy through the trainers' chunked_token_logprobs. --profile-trace traces one
// extra step after the timed ones (bench/common/kernel_profile.h). It does not measure rollout.
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <iostream>

#include "bench/common/kernel_profile.h"
#include "bench/common/model_shapes.h"
#include "core/torch/device.h"
#include "model/io/model_io.h"
#include "rl/learner/chunked_logprobs.h"
#include "rl/trainer/stage_optimizer.h"

namespace {

using nlohmann::json;
using namespace grpo::model;

// Mean next-token cross-entropy as the SFT and GRPO trainers compute it: chunked_token_logprobs
// (1024 positions per chunk, float32 softmax statistics, logits recomputed in the backward).
torch::Tensor next_token_loss(CausalLM& model, const torch::Tensor& hidden, const torch::Tensor& ids) {
  const int64_t t = ids.size(1) - 1;
  const auto lp = grpo::rl::chunked_token_logprobs(hidden.narrow(1, 0, t), model->output_weight(), ids.narrow(1, 1, t),
                                                   torch::Tensor(), grpo::rl::TokenLogProbOptions());
  return -lp.logprobs.mean();
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"forward+backward+AdamW tokens/s of a random model"};
  std::string shape = "tiny", device_name = "auto", baseline_path;
  int64_t batch = 2, seq = 64;
  int steps = 3, repeats = 3;
  bool checkpointing = false;
  std::string profile_trace;
  app.add_option("--shape", shape, "qwen05 | moe-mla | tiny");
  app.add_option("--device", device_name, "auto | cpu | cuda[:N]");
  app.add_option("--batch", batch);
  app.add_option("--seq", seq);
  app.add_option("--steps", steps, "steps per timed repeat");
  app.add_option("--repeats", repeats);
  app.add_option("--baseline-json", baseline_path, "JSON printed by hf_baselines.py");
  app.add_flag("--checkpointing", checkpointing, "activation checkpointing per layer");
  app.add_option("--profile-trace", profile_trace, "after timing, trace one more step into this Chrome trace");
  CLI11_PARSE(app, argc, argv);

  grpo::set_cpu_threads(0);
  const auto device = grpo::parse_device(device_name);
  const auto dtype = device.is_cuda() ? torch::kBFloat16 : torch::kFloat32;
  CausalLM model(parse_model_config(grpo::bench::shape_config(shape), shape));
  init_weights(model, 0);
  cast_model(model, dtype);
  model->to(device);
  model->train();
  model->set_activation_checkpointing(checkpointing);
  grpo::rl::OptimSettings optim;
  optim.lr = 1e-5;
  optim.betas = {0.9, 0.999};
  optim.schedule = "constant";
  grpo::rl::StageOptimizer opt(model, optim, 1 << 20);
  int64_t step_count = 0;
  torch::manual_seed(0);
  auto ids = torch::randint(0, model->config().vocab_size, {batch, seq}, torch::TensorOptions().dtype(torch::kInt64)).to(device);

  auto step = [&] {
    ForwardInput in;
    in.input_ids = ids;
    auto loss = next_token_loss(model, model->forward(in).hidden, ids);
    opt.backward(loss);
    opt.step(++step_count, loss.item<double>());
    return loss;
  };
  auto sync = [&] { model->output_weight().sum().item<double>(); };  // waits for the stream on CUDA
  for (int i = 0; i < 2; ++i) step();
  sync();
  std::vector<double> rates;
  for (int r = 0; r < repeats; ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < steps; ++i) step();
    sync();
    const double dt = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    rates.push_back(static_cast<double>(batch * seq * steps) / dt);
  }
  std::sort(rates.begin(), rates.end());
  const double median = rates[rates.size() / 2];
  if (!profile_trace.empty()) {
    grpo::bench::KernelProfile profile;
    step();
    sync();
    profile.save(profile_trace);
  }

  int64_t params = 0;
  for (const auto& p : model->parameters()) params += p.numel();
  json out = {{"benchmark", "model_train_fwd_bwd_adamw"}, {"shape", shape}, {"device", grpo::describe_device(device)},
              {"dtype", grpo::dtype_name(dtype)}, {"fp32_master_weights", opt.masters().mixed()}, {"checkpointing", checkpointing},
              {"batch", batch}, {"seq", seq}, {"params", params}, {"tokens_per_s", median}, {"repeats_tokens_per_s", rates}};
  const std::string hf_name = shape == "qwen05" ? "qwen2.5-0.5b-shape" : "moe-mla-1b-shape";
  const std::string key = "eager_train_" + hf_name + "_b" + std::to_string(batch) + "_s" + std::to_string(seq) + "_tok_per_s";
  out["baseline"] = "transformers eager bf16, fused AdamW (" + key + ")";
  out["baseline_tokens_per_s"] = nullptr;
  out["ratio"] = nullptr;
  if (!baseline_path.empty()) {
    std::ifstream in(baseline_path);
    const auto base = json::parse(in);
    if (base.contains(key)) {
      out["baseline_tokens_per_s"] = base[key];
      out["ratio"] = median / base[key].get<double>();
    }
  }
  std::cout << out.dump() << std::endl;
  return 0;
}
