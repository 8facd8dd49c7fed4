// The rollout/learner log-prob mismatch (issue 23), measured the way training logs it: for each
// rollout:learner dtype pair, the RolloutEngine samples completions (temperature 1, no top-k/p)
// and the GrpoLearner's update scores them in its first forwards (its real path: packing,
// micro-batches, fused training kernels), whose mismatch/abs_logp_mean, mismatch/abs_logp_max
// and mismatch/k3 (logprob_mismatch.h) are printed, one JSON object for all pairs. The learner's
// learning rate is 0, so nothing it does changes the next pair (each pair builds its policy anew
// anyway, as the trainer does: float32 weights, the learner casts them to its dtype, the engine
// runs those tensors or, in another dtype, its own copy of them).
// The policy: a random-weight shape (bench/common/model_shapes.h) or a Hugging Face directory
// (--model). Prompts: with --model, a fixed list of short English and arithmetic prompts through
// the directory's tokenizer; otherwise random token ids, seeded. MoE policies are measured with
// routing replay off and, with --routing-replay, on (the learner takes the rollout's experts).
// Not measured: time (bench_grpo_step does that); sampling filters, whose log-probs the learner
// does not reproduce.
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <filesystem>
#include <iostream>
#include <random>
#include <sstream>

#include "bench/common/model_shapes.h"
#include "core/config/config_io.h"
#include "core/error.h"
#include "core/torch/device.h"
#include "model/io/model_io.h"
#include "model/tokenizer/tokenizer.h"
#include "rl/trainer/grpo_learner.h"
#include "rl/trainer/routing_replay.h"
#include "rollout/engine.h"

namespace {

using nlohmann::json;
using namespace grpo;

struct Options {
  std::string shape = "tiny", model_dir, device = "auto", pairs;
  int64_t prompts = 16, group = 8, max_new = 256, prompt_len = 48, slots = 128;
  uint64_t seed = 1;
  bool routing_replay = false, cuda_graphs = true;
  int threads = 0;
};

struct DtypePair {
  torch::Dtype rollout, learner;
};

std::vector<DtypePair> parse_pairs(const std::string& text) {
  std::vector<DtypePair> out;
  std::stringstream items(text);
  std::string item;
  while (std::getline(items, item, ',')) {
    const auto colon = item.find(':');
    require(colon != std::string::npos, "--pairs: expected ROLLOUT:LEARNER dtypes separated by commas (e.g. "
                                        "bf16:bf16,fp32:fp32), got '" + item + "'");
    out.push_back({parse_dtype(item.substr(0, colon)), parse_dtype(item.substr(colon + 1))});
  }
  require(!out.empty(), "--pairs: expected at least one ROLLOUT:LEARNER pair");
  return out;
}

// A float32 policy on the device: the directory's weights or the shape's seeded random ones.
model::CausalLM make_policy(const Options& o, const torch::Device& device) {
  model::CausalLM policy{nullptr};
  if (!o.model_dir.empty()) {
    model::LoadOptions lo;
    lo.device = device;
    policy = model::load_model(o.model_dir, lo);
  } else {
    policy = model::CausalLM(model::parse_model_config(bench::shape_config(o.shape), o.shape));
    model::init_weights(policy, 0);
    policy->to(device);
  }
  policy->eval();
  return policy;
}

// Prompts the policy can make sense of when it is a real model; random ids otherwise.
std::vector<std::vector<int64_t>> make_prompts(const Options& o, int64_t vocab) {
  std::vector<std::vector<int64_t>> out;
  const auto tokenizer_path = std::filesystem::path(o.model_dir) / "tokenizer.json";
  if (!o.model_dir.empty() && std::filesystem::exists(tokenizer_path)) {
    static const char* texts[] = {
        "Question: What is 17 times 23? Think step by step.\nAnswer:",
        "The history of the printing press begins",
        "Solve for x: 3x + 7 = 22. First,",
        "Write a short poem about the sea.\n",
        "def fibonacci(n):\n    \"\"\"Return the n-th Fibonacci number.\"\"\"\n",
        "Explain why the sky is blue in simple terms.",
        "A train leaves at 9:40 and arrives at 13:05. How long is the trip?",
        "List three uses of a paperclip:",
    };
    const auto tokenizer = Tokenizer::from_file(tokenizer_path.string());
    for (int64_t p = 0; p < o.prompts; ++p) {
      const auto ids = tokenizer.encode(texts[p % (sizeof texts / sizeof *texts)]);
      out.emplace_back(ids.begin(), ids.end());
    }
    return out;
  }
  std::mt19937_64 gen(o.seed);
  for (int64_t p = 0; p < o.prompts; ++p) {
    std::vector<int64_t> prompt(o.prompt_len);
    for (auto& id : prompt) id = static_cast<int64_t>(gen() % static_cast<uint64_t>(vocab));
    out.push_back(std::move(prompt));
  }
  return out;
}

json measure(const Options& o, const DtypePair& pair, bool replay, const torch::Device& device,
             const std::vector<std::vector<int64_t>>& prompts) {
  auto policy = make_policy(o, device);
  auto settings = config::defaults<rl::GrpoSettings>();
  settings.group_size = o.group;
  settings.batch_size = o.prompts * o.group;
  settings.micro_batch_tokens = 16384;
  settings.moe_routing_replay = replay ? "rollout" : "off";
  auto optim = config::defaults<rl::OptimSettings>();
  optim.lr = 0.0;
  rl::GrpoLearner learner(policy, settings, optim, 1.0, o.max_new, 1, pair.learner);
  rollout::EngineOptions eo;
  eo.slots = o.slots;
  int64_t longest_prompt = 0;
  for (const auto& p : prompts) longest_prompt = std::max<int64_t>(longest_prompt, static_cast<int64_t>(p.size()));
  eo.max_len = longest_prompt + o.max_new;
  eo.cuda_graphs = o.cuda_graphs;
  eo.dtype = pair.rollout;
  rollout::RolloutEngine engine(policy, eo);
  const bool moe = !policy->moe_layers().empty();
  if (moe) engine.record_routes();

  std::vector<rollout::GenerationRequest> requests;
  for (const auto& p : prompts) {
    rollout::GenerationRequest r;
    r.prompt_ids = p;
    r.n = o.group;
    r.max_new_tokens = o.max_new;
    r.sampling.temperature = 1.0;  // no stop tokens: every completion is max_new long
    requests.push_back(std::move(r));
  }
  const auto gen = engine.generate(requests, o.seed);

  std::vector<std::vector<int64_t>> batch_prompts, completions;
  std::vector<const rollout::TokenRoutes*> routes;
  std::vector<const std::vector<float>*> logprobs;
  for (size_t i = 0; i < gen.completions.size(); ++i)
    for (const auto& c : gen.completions[i]) {
      batch_prompts.push_back(prompts[i]);
      completions.push_back(c.token_ids);
      routes.push_back(&c.routes);
      logprobs.push_back(&c.logprobs);
    }
  rl::LearnerBatch batch;
  batch.sequences = rl::make_sequence_batch(batch_prompts, completions, device);
  batch.rollout_logprobs = rl::completion_aligned(batch.sequences, logprobs, device);
  batch.loss_mask = batch.sequences.completion_mask;
  batch.advantages = torch::zeros({batch.sequences.rows()}, torch::kFloat32).to(device);
  if (replay) batch.replayed_routes = rl::replayed_routes(routes, batch.sequences, *policy);
  const auto report = learner.update(batch, 0);
  return {{"rollout", dtype_name(pair.rollout)},
          {"learner", dtype_name(pair.learner)},
          {"routing_replay", replay},
          {"completion_tokens", batch.loss_mask.sum().item<int64_t>()},
          {"abs_logp_mean", report.metrics.at("mismatch/abs_logp_mean")},
          {"abs_logp_max", report.metrics.at("mismatch/abs_logp_max")},
          {"k3", report.metrics.at("mismatch/k3")},
          {"entropy", report.metrics.count("actor/entropy") ? report.metrics.at("actor/entropy") : -1.0}};
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"the rollout/learner log-prob mismatch per dtype pair"};
  Options o;
  app.add_option("--shape", o.shape, "qwen05 | moe-mla | tiny (random weights); ignored with --model");
  app.add_option("--model", o.model_dir, "a Hugging Face directory to measure instead of a random shape");
  app.add_option("--pairs", o.pairs,
                 "ROLLOUT:LEARNER dtype pairs, comma-separated; default bf16:bf16,fp16:fp16,fp32:fp32,bf16:fp32 "
                 "on CUDA, fp32:fp32 on CPU");
  app.add_option("--prompts", o.prompts, "prompts (groups)");
  app.add_option("--group", o.group, "completions per prompt");
  app.add_option("--max-new", o.max_new, "tokens per completion (no stop tokens)");
  app.add_option("--prompt-len", o.prompt_len, "random prompts' length (without --model)");
  app.add_option("--slots", o.slots, "rollout sequences decoded at once");
  app.add_option("--seed", o.seed, "sampling (and random prompt) seed");
  app.add_flag("--routing-replay", o.routing_replay, "MoE policies: also measure with rl.moe_routing_replay: rollout");
  app.add_option("--cuda-graphs", o.cuda_graphs, "capture decode steps as CUDA graphs (GPU only)");
  app.add_option("--device", o.device, "auto | cpu | cuda[:N]");
  app.add_option("--threads", o.threads, "CPU intra-op threads (0 = all cores)");
  CLI11_PARSE(app, argc, argv);

  set_cpu_threads(o.threads);
  const auto device = parse_device(o.device);
  if (o.pairs.empty()) o.pairs = device.is_cuda() ? "bf16:bf16,fp16:fp16,fp32:fp32,bf16:fp32" : "fp32:fp32";
  const auto pairs = parse_pairs(o.pairs);
  auto probe = make_policy(o, device);
  const auto prompts = make_prompts(o, probe->config().vocab_size);
  const bool moe = !probe->moe_layers().empty();
  require(!o.routing_replay || moe, "--routing-replay needs a MoE policy");
  probe = model::CausalLM{nullptr};

  json results = json::array();
  for (const auto& pair : pairs) {
    results.push_back(measure(o, pair, false, device, prompts));
    if (o.routing_replay) results.push_back(measure(o, pair, true, device, prompts));
  }
  json out = {{"benchmark", "logprob_mismatch"},
              {"policy", o.model_dir.empty() ? o.shape : o.model_dir},
              {"device", describe_device(device)},
              {"prompts", o.prompts},
              {"group", o.group},
              {"max_new_tokens", o.max_new},
              {"results", results}};
  std::cout << out.dump() << std::endl;
  return 0;
}
