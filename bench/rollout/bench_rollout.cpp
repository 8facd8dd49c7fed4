// Generation throughput of the rollout engine on random-weight models, printed as one JSON object:
// tokens/s (median of repeats), prefill and decode seconds, decode tokens/s, cache bytes per
// token, the bytes one decode step must read (weights + cache) and the fraction of the
// memory-bandwidth floor (the device copy rate measured in the same run) it reaches, beside transformers generate() on the
// same config (from the JSON that .shared/baselines/hf_baselines.py prints, when given).
// Shapes: qwen05 (Qwen2.5-0.5B: 32 prompts x 8 samples, prompt 128, 256 new tokens), moe-mla (the
// DeepSeek-V3-style MoE/MLA config of hf_baselines.py: 8 prompts x 8 samples, prompt 128, 128 new
// tokens), tiny (a dense GQA and a tiny MoE/MLA model, for a CPU smoke run); `all` = qwen05 and
// moe-mla, the default on CUDA. Sampling is temperature 1 with no filtering and no stop tokens,
// as the baseline runs. It does not load real checkpoints or measure the tokenizer.
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
#include "rollout/engine.h"

namespace {

using nlohmann::json;
using namespace grpo;

// The bandwidth of the floor: the device copy rate hf_baselines.py measured in the same run
// (d2d_copy_TBps), else 3 TB/s (about an H100's HBM3).
double floor_bytes_per_second(const json& baseline) {
  return baseline.contains("d2d_copy_TBps") ? baseline["d2d_copy_TBps"].get<double>() * 1e12 : 3e12;
}

struct Workload {
  json config;
  std::string baseline_name;  // hf_baselines.py's name for this shape; empty = none
  int64_t prompts, n, prompt_len, new_tokens;
  double goal_tokens_per_s = 0, goal_ratio = 0;
};

// The shapes of hf_baselines.py (bench/common/model_shapes.h) with their workloads, and tiny ones for CPU.
Workload workload(const std::string& shape) {
  if (shape == "qwen05")
    return {bench::shape_config(shape), "qwen2.5-0.5b-shape", 32, 8, 128, 256, 100000.0, 0.0};
  if (shape == "moe-mla")
    return {bench::shape_config(shape), "moe-mla-1b-shape", 8, 8, 128, 128, 0.0, 50.0};
  if (shape == "tiny-dense")
    return {{{"model_type", "qwen2"}, {"vocab_size", 2048}, {"hidden_size", 128}, {"intermediate_size", 256},
             {"num_hidden_layers", 4}, {"num_attention_heads", 4}, {"num_key_value_heads", 2},
             {"tie_word_embeddings", true}},
            "", 8, 4, 32, 64};
  if (shape == "tiny-moe")
    return {{{"model_type", "deepseek_v3"}, {"vocab_size", 2048}, {"hidden_size", 128}, {"intermediate_size", 256},
             {"moe_intermediate_size", 32}, {"num_hidden_layers", 3}, {"first_k_dense_replace", 1},
             {"n_routed_experts", 16}, {"n_shared_experts", 1}, {"num_experts_per_tok", 4}, {"n_group", 1},
             {"topk_group", 1}, {"q_lora_rank", nullptr}, {"kv_lora_rank", 32}, {"qk_nope_head_dim", 16},
             {"qk_rope_head_dim", 8}, {"v_head_dim", 16}, {"num_attention_heads", 4}, {"num_key_value_heads", 4}},
            "", 8, 4, 32, 64};
  throw std::runtime_error("unknown shape '" + shape + "' (expected qwen05, moe-mla, tiny-dense, tiny-moe, tiny or all)");
}

std::vector<rollout::GenerationRequest> make_requests(const Workload& w, int64_t vocab) {
  torch::manual_seed(0);
  auto ids = torch::randint(0, vocab, {w.prompts, w.prompt_len}, torch::kInt64);
  std::vector<rollout::GenerationRequest> out;
  for (int64_t p = 0; p < w.prompts; ++p) {
    rollout::GenerationRequest r;
    r.prompt_ids.assign(ids[p].data_ptr<int64_t>(), ids[p].data_ptr<int64_t>() + w.prompt_len);
    r.n = w.n;
    r.max_new_tokens = w.new_tokens;
    r.sampling.temperature = 1.0;
    out.push_back(std::move(r));
  }
  return out;
}

struct Options {
  std::string device = "auto", baseline_path, profile_trace;
  int repeats = 3, threads = 0;
  bool cuda_graphs = true, dense_moe = true;
};

json run_shape(const std::string& shape, const Options& o, const json& baseline) {
  const auto device = parse_device(o.device);
  const auto dtype = device.is_cuda() ? torch::kBFloat16 : torch::kFloat32;
  const Workload w = workload(shape);
  model::CausalLM m(model::parse_model_config(w.config, shape));
  model::init_weights(m, 0);
  model::cast_model(m, dtype);
  m->to(device);
  m->eval();
  const int64_t sequences = w.prompts * w.n;
  rollout::EngineOptions eo;
  eo.slots = sequences;
  eo.max_len = w.prompt_len + w.new_tokens;
  eo.max_prefill_tokens = std::max<int64_t>(8192, w.prompts * w.prompt_len);
  eo.cuda_graphs = o.cuda_graphs;
  eo.dense_moe = o.dense_moe;
  rollout::RolloutEngine engine(m, eo);
  const auto requests = make_requests(w, m->config().vocab_size);

  engine.generate(requests, 1);  // warm-up: allocator, kernels (and CUDA graphs when on)
  std::vector<double> rates;
  std::vector<rollout::GenerationStats> stats;
  for (int r = 0; r < o.repeats; ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    const auto result = engine.generate(requests, 100 + r);
    const double dt = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    rates.push_back(static_cast<double>(result.stats.generated_tokens) / dt);
    stats.push_back(result.stats);
  }
  std::vector<size_t> order(rates.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return rates[a] < rates[b]; });
  const size_t median = order[order.size() / 2];
  const auto& s = stats[median];
  if (!o.profile_trace.empty()) {  // 32 new tokens keep the trace small; the timing is done
    auto short_requests = requests;
    for (auto& r : short_requests) r.max_new_tokens = std::min<int64_t>(r.max_new_tokens, 32);
    bench::KernelProfile profile;
    engine.generate(short_requests, 7);
    profile.save(o.profile_trace + "." + shape + ".json");
  }

  const int64_t cache_bpt = model::InferenceCache::bytes_per_token(m->config(), dtype);
  const int64_t weights = bench::weight_bytes_per_decode_step(m, sequences);
  // Each decode step reads every sequence's cache: on average the prompt plus half the completion.
  const double context = static_cast<double>(w.prompt_len) + 0.5 * static_cast<double>(w.new_tokens);
  const double cache_read = static_cast<double>(sequences) * context * static_cast<double>(cache_bpt);
  const double step_bytes = static_cast<double>(weights) + cache_read;
  const double step_s = s.decode_steps > 0 ? s.decode_seconds / static_cast<double>(s.decode_steps) : 0.0;
  const double floor_s = step_bytes / floor_bytes_per_second(baseline);

  json out = {{"shape", shape}, {"dtype", dtype_name(dtype)}, {"prompts", w.prompts}, {"n", w.n},
              {"sequences", sequences}, {"prompt_len", w.prompt_len}, {"new_tokens", w.new_tokens},
              {"tokens_per_s", rates[median]}, {"repeats_tokens_per_s", rates},
              {"prefill_s", s.prefill_seconds}, {"decode_s", s.decode_seconds}, {"decode_steps", s.decode_steps},
              {"decode_tokens_per_s", s.decode_seconds > 0 ? static_cast<double>(s.generated_tokens) / s.decode_seconds : 0.0},
              {"decode_step_ms", step_s * 1e3}, {"cache_bytes_per_token", cache_bpt},
              {"mha_cache_bytes_per_token", model::InferenceCache::mha_bytes_per_token(m->config(), dtype)},
              {"weight_bytes_per_step", weights}, {"cache_bytes_per_step", cache_read},
              {"bytes_per_decode_step", step_bytes}, {"floor_step_ms", floor_s * 1e3},
              {"floor_fraction", step_s > 0 ? floor_s / step_s : 0.0},
              {"cuda_graphs_captured", {{"decode", engine.graph_counts().decode}, {"prefill", engine.graph_counts().prefill}}}};
  out["baseline"] = nullptr;
  out["baseline_tokens_per_s"] = nullptr;
  out["ratio"] = nullptr;
  if (!w.baseline_name.empty()) {
    const std::string key = "hf_generate_" + w.baseline_name + "_b" + std::to_string(sequences) + "_p" +
                            std::to_string(w.prompt_len) + "_n" + std::to_string(w.new_tokens) + "_tok_per_s";
    out["baseline"] = "transformers generate() bf16 (" + key + ")";
    if (baseline.contains(key)) {
      out["baseline_tokens_per_s"] = baseline[key];
      out["ratio"] = rates[median] / baseline[key].get<double>();
    }
  }
  if (w.goal_tokens_per_s > 0) out["goal_tokens_per_s"] = w.goal_tokens_per_s;
  if (w.goal_ratio > 0) out["goal_ratio"] = w.goal_ratio;
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"rollout engine generation tokens/s on random-weight models"};
  std::string shape;
  Options o;
  app.add_option("--shape", shape, "qwen05 | moe-mla | tiny-dense | tiny-moe | tiny | all (default: all on CUDA, tiny on CPU)");
  app.add_option("--device", o.device, "auto | cpu | cuda[:N]");
  app.add_option("--repeats", o.repeats);
  app.add_option("--threads", o.threads, "CPU intra-op threads (0 = all cores)");
  app.add_option("--baseline-json", o.baseline_path, "the last line printed by hf_baselines.py");
  app.add_option("--cuda-graphs", o.cuda_graphs, "capture decode steps as CUDA graphs (GPU only)");
  app.add_option("--dense-moe", o.dense_moe, "CUDA: MoE decode runs every expert (true) or the grouped GEMM (false)");
  app.add_option("--profile-trace", o.profile_trace,
                 "after timing, trace one 32-token generation per shape into PREFIX.SHAPE.json");
  CLI11_PARSE(app, argc, argv);

  set_cpu_threads(o.threads);
  const auto device = parse_device(o.device);
  if (shape.empty()) shape = device.is_cuda() ? "all" : "tiny";
  json baseline = json::object();
  if (!o.baseline_path.empty()) {
    std::ifstream in(o.baseline_path);
    if (!in) throw std::runtime_error("cannot read --baseline-json " + o.baseline_path);
    baseline = json::parse(in);
  }
  std::vector<std::string> shapes = {shape};
  if (shape == "all") shapes = {"qwen05", "moe-mla"};
  if (shape == "tiny") shapes = {"tiny-dense", "tiny-moe"};
  json results = json::array();
  for (const auto& s : shapes) results.push_back(run_shape(s, o, baseline));
  json out = {{"benchmark", "rollout_generate"}, {"device", describe_device(device)}, {"cuda_graphs", o.cuda_graphs},
              {"dense_moe", o.dense_moe}, {"floor_bandwidth_Bps", floor_bytes_per_second(baseline)}, {"results", results}};
  std::cout << out.dump() << std::endl;
  return 0;
}
