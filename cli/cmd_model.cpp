// `grpo model info DIR|FILE.gguf`: architecture, parameters (total and active per token),
// inference cache bytes per token beside what an MHA cache of the same heads would take (reads
// config.json only; for a GGUF file, its metadata, plus the tensors per ggml type), and the token
// ids that end a generation (model/io/stop_tokens.h; for a GGUF file, those its import keeps).
// `grpo model import FILE.gguf OUT`: a GGUF file (llama, qwen2) as a Hugging Face directory.
// `grpo model resave SRC DST`: load a Hugging Face directory and save it again through grpo.cpp's
// writer (optionally in another dtype or shard size) — the round trip that
// bench/model/hf_roundtrip_check.py verifies in transformers. `grpo model init CONFIG.json OUT`:
// a randomly initialized model (benchmarks, GPU smoke runs, pre-training from scratch).
// `grpo model merge BASE ADAPTER OUT`: BASE with a LoRA adapter in PEFT's format (ours or PEFT's)
// folded into its weights, in float32, as a Hugging Face directory with BASE's tokenizer files.
#include <filesystem>
#include <iostream>

#include "cli/command.h"
#include "core/error.h"
#include "core/torch/device.h"
#include "model/arch/config.h"
#include "model/gguf/gguf_hf_mapping.h"
#include "model/gguf/gguf_import.h"
#include "model/gguf/gguf_info.h"
#include "model/gguf/gguf_tokenizer.h"
#include "model/io/model_info.h"
#include "model/io/model_io.h"
#include "model/io/stop_tokens.h"
#include "model/lora/merge.h"
#include "model/lora/peft_format.h"
#include "model/tokenizer/tokenizer.h"

namespace {

// "2 (<|im_end|>), 0 (<|endoftext|>)": the ids that end a generation, as the rollout uses them.
std::string format_stop_tokens(const std::vector<int64_t>& ids, const grpo::Tokenizer& tokenizer) {
  std::string out;
  for (const auto id : ids) {
    if (!out.empty()) out += ", ";
    out += std::to_string(id) + " (" + tokenizer.id_to_token(static_cast<int>(id)).value_or("?") + ")";
  }
  return out.empty() ? "none" : out;
}

void setup_model(CLI::App& root) {
  auto* cmd = root.add_subcommand("model", "Inspect Hugging Face model directories");
  cmd->require_subcommand(1);
  auto dir = std::make_shared<std::string>();
  auto dtype = std::make_shared<std::string>("bfloat16");
  auto* info = cmd->add_subcommand("info", "Architecture, parameter counts and cache size of a model directory");
  info->add_option("dir", *dir, "Directory holding config.json, or a .gguf file")->required();
  info->add_option("--cache-dtype", *dtype, "Dtype of the inference cache (bfloat16, float16, float32)");
  info->callback([dir, dtype] {
    const std::filesystem::path path(*dir);
    if (path.extension() == ".gguf" && !std::filesystem::is_directory(path)) {
      const auto file = grpo::model::gguf::GgufFile::open(path);
      const auto summary = grpo::model::gguf::summarize_gguf(*file);
      std::cout << grpo::model::gguf::format_gguf_summary(summary)
                << grpo::model::format_model_info(grpo::model::describe_model(summary.config, grpo::parse_dtype(*dtype)));
      const auto vocab = grpo::model::gguf::vocab_from_gguf(*file);
      const auto files = grpo::model::gguf::tokenizer_files_from_gguf(vocab, path.string());
      std::cout << "stop tokens:       "
                << format_stop_tokens(files.end_of_turn_ids, grpo::Tokenizer::from_json(files.tokenizer_json)) << "\n";
      return;
    }
    const auto config = grpo::model::load_model_config(*dir);
    std::cout << grpo::model::format_model_info(grpo::model::describe_model(config, grpo::parse_dtype(*dtype)));
    if (std::filesystem::exists(path / "tokenizer.json")) {
      const auto tokenizer = grpo::Tokenizer::from_file(path.string());
      const auto eos = tokenizer.special_ids().eos;
      const auto stops =
          grpo::model::end_of_sequence_ids(path, config, eos ? std::optional<int64_t>(*eos) : std::nullopt);
      std::cout << "stop tokens:       " << format_stop_tokens(stops, tokenizer) << "\n";
    }
  });

  auto src = std::make_shared<std::string>(), dst = std::make_shared<std::string>();
  auto save_dtype = std::make_shared<std::string>();
  auto shard_mb = std::make_shared<uint64_t>(5 * 1024);
  auto* resave = cmd->add_subcommand("resave", "Load a model directory and save it again with grpo.cpp's writer");
  resave->add_option("src", *src, "Source Hugging Face directory")->required();
  resave->add_option("dst", *dst, "Destination directory")->required();
  resave->add_option("--dtype", *save_dtype, "Save as float32, bfloat16 or float16 (default: as loaded)");
  resave->add_option("--shard-mb", *shard_mb, "Largest shard in MiB");
  resave->callback([src, dst, save_dtype, shard_mb] {
    auto model = grpo::model::load_model(*src);
    grpo::model::SaveOptions options;
    options.source_dir = *src;
    options.max_shard_bytes = *shard_mb << 20;
    if (!save_dtype->empty()) options.dtype = grpo::parse_dtype(*save_dtype);
    grpo::model::save_model(model, *dst, options);
    std::cout << "saved " << *dst << "\n";
  });

  struct ImportArgs {
    std::string gguf, out, dtype = "float32";
    bool force = false;
  };
  auto import_args = std::make_shared<ImportArgs>();
  auto* import = cmd->add_subcommand("import", "Convert a GGUF file (llama, qwen2) into a Hugging Face directory");
  import->add_option("gguf", import_args->gguf, "The .gguf file")->required();
  import->add_option("out", import_args->out, "Output Hugging Face directory (must not exist)")->required();
  import->add_option("--dtype", import_args->dtype, "Write float32 (default) or bfloat16");
  import->add_flag("--force", import_args->force, "Replace an existing output directory");
  import->callback([import_args] {
    grpo::model::gguf::ImportOptions options;
    options.dtype = grpo::parse_dtype(import_args->dtype);
    options.force = import_args->force;
    const auto result = grpo::model::gguf::import_gguf(import_args->gguf, import_args->out, options);
    std::cout << "imported " << import_args->gguf << " -> " << import_args->out << " (" << result.config.model_type
              << ", " << result.tensors << " tensors, " << result.parameters << " parameters, " << import_args->dtype
              << ")\n";
  });

  struct InitArgs {
    std::string config, out, tokenizer, dtype;
    uint64_t seed = 0;
    double std = 0.02;
  };
  auto init_args = std::make_shared<InitArgs>();
  auto* init = cmd->add_subcommand("init", "Create a randomly initialized model directory from a config.json");
  init->add_option("config", init_args->config, "config.json of the architecture")->required();
  init->add_option("out", init_args->out, "Output Hugging Face directory")->required();
  init->add_option("--tokenizer", init_args->tokenizer, "tokenizer.json or directory to ship with it");
  init->add_option("--seed", init_args->seed, "Initialization seed");
  init->add_option("--std", init_args->std, "Normal std of weight matrices");
  init->add_option("--dtype", init_args->dtype, "Save as float32, bfloat16 or float16 (default float32)");
  init->callback([init_args] {
    const std::filesystem::path config_path(init_args->config);
    if (config_path.filename() != "config.json")
      throw grpo::Error(grpo::SourceLocation{init_args->config, 0, 0}, "expected a file named config.json");
    grpo::model::CausalLM model(grpo::model::load_model_config(config_path.parent_path()));
    grpo::model::init_weights(model, init_args->seed, init_args->std);
    std::filesystem::create_directories(init_args->out);
    grpo::model::SaveOptions options;
    if (!init_args->dtype.empty()) options.dtype = grpo::parse_dtype(init_args->dtype);
    if (!init_args->tokenizer.empty()) {
      const std::filesystem::path tok(init_args->tokenizer);
      options.source_dir = std::filesystem::is_directory(tok) ? tok : tok.parent_path();
    }
    grpo::model::save_model(model, init_args->out, options);
    std::cout << "initialized " << init_args->out << "\n";
  });

  struct MergeArgs {
    std::string base, adapter, out, dtype;
  };
  auto merge_args = std::make_shared<MergeArgs>();
  auto* merge = cmd->add_subcommand("merge", "Fold a LoRA adapter (PEFT's format) into its base: a Hugging Face directory");
  merge->add_option("base", merge_args->base, "The base model's Hugging Face directory")->required();
  merge->add_option("adapter", merge_args->adapter, "Adapter directory (adapter_config.json, adapter_model.safetensors)")
      ->required();
  merge->add_option("out", merge_args->out, "Output Hugging Face directory")->required();
  merge->add_option("--dtype", merge_args->dtype, "Save as float32, bfloat16 or float16 (default: the base's as loaded, float32)");
  merge->callback([merge_args] {
    auto model = grpo::model::load_model(merge_args->base);
    grpo::model::load_adapter(model, merge_args->adapter);
    grpo::model::merge_lora_(model);
    grpo::model::SaveOptions options;
    options.source_dir = merge_args->base;
    if (!merge_args->dtype.empty()) options.dtype = grpo::parse_dtype(merge_args->dtype);
    grpo::model::save_model(model, merge_args->out, options);
    std::cout << "merged " << merge_args->adapter << " into " << merge_args->base << " -> " << merge_args->out << "\n";
  });
}

}  // namespace

GRPO_REGISTER_COMMAND(model, setup_model);
