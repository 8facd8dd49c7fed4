// Encode throughput (MB/s) of grpo.cpp's tokenizer, one thread and all threads, on a few MB
// of generated mixed text (English prose, math, code, CJK, Cyrillic, emoji) with a fixture
// tokenizer, and the same measurement of Hugging Face tokenizers run beside it through
// hf_tokenizers_baseline.py. Prints one JSON object: figures, baseline, ratios, device,
// medians of --repeats runs after one warm-up. The token counts of both must agree.
// It does not measure decoding or tokenizer loading.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <random>
#include <thread>

#include "model/tokenizer/tokenizer.h"

namespace {

const char* const kWords[] = {"the", "answer", "is", "because", "we", "compute", "sum", "of", "each", "term",
                              "Let", "me", "check", "again", "Wait", "so", "total", "equals", "therefore", "value"};
const char* const kSnippets[] = {
    "$$\\int_0^1 x^2\\,dx = \\frac{1}{3}$$ ", "\\boxed{42} ", "<think>", "</think>", "<answer>", "</answer>",
    "\ndef f(x):\n    return x ** 2  # square\n", "数学问题：求解方程。", "答案是四十二。", "カタカナのテキスト",
    "Привет, мир! ", "émigré café naïve ", "😀 🚀 ", "  \n\n", "17 * 23 = 391. ", "3.14159, 2.71828; "};

// Documents of about `doc_bytes` each, `total_bytes` in all, from a fixed seed.
std::vector<std::string> make_documents(size_t total_bytes, size_t doc_bytes) {
  std::mt19937 rng(42);
  std::vector<std::string> docs;
  size_t size = 0;
  while (size < total_bytes) {
    std::string doc;
    while (doc.size() < doc_bytes) {
      if (rng() % 8 == 0) doc += kSnippets[rng() % (sizeof kSnippets / sizeof *kSnippets)];
      else doc += std::string(kWords[rng() % (sizeof kWords / sizeof *kWords)]) + (rng() % 10 == 0 ? ", " : " ");
      if (rng() % 30 == 0) doc += std::to_string(rng() % 100000) + " ";
    }
    size += doc.size();
    docs.push_back(std::move(doc));
  }
  return docs;
}

template <class F>
double median_seconds(int repeats, F&& fn) {
  fn();  // warm-up
  std::vector<double> times;
  for (int i = 0; i < repeats; ++i) {
    const auto start = std::chrono::steady_clock::now();
    fn();
    times.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }
  std::sort(times.begin(), times.end());
  return times[times.size() / 2];
}

nlohmann::json run_baseline(const std::string& script, const std::string& tokenizer, const std::string& text_path,
                            int repeats) {
  const std::string cmd = "python3 '" + script + "' --tokenizer '" + tokenizer + "' --text '" + text_path +
                          "' --repeats " + std::to_string(repeats) + " 2>/dev/null";
  FILE* pipe = popen(cmd.c_str(), "r");
  if (!pipe) return nullptr;
  std::string out;
  char buf[4096];
  while (size_t n = fread(buf, 1, sizeof buf, pipe)) out.append(buf, n);
  if (pclose(pipe) != 0) return nullptr;  // Python or tokenizers missing
  try {
    return nlohmann::json::parse(out);
  } catch (const nlohmann::json::parse_error&) {
    return nullptr;
  }
}

std::string flag(int argc, char** argv, const std::string& name, const std::string& fallback) {
  for (int i = 1; i + 1 < argc; ++i)
    if (argv[i] == name) return argv[i + 1];
  return fallback;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string source = GRPO_SOURCE_DIR;
  const std::string tokenizer_path = flag(argc, argv, "--tokenizer", source + "/tests/fixtures/tokenizers/qwen2");
  const size_t mb = std::stoul(flag(argc, argv, "--mb", "4"));
  const int repeats = std::stoi(flag(argc, argv, "--repeats", "5"));
  const std::string text_path = flag(argc, argv, "--text-out", "/tmp/grpo_bench_tokenizer_text.txt");

  const grpo::Tokenizer tok = grpo::Tokenizer::from_file(tokenizer_path);
  const auto docs = make_documents(mb * 1000 * 1000, 2000);
  size_t bytes = 0, tokens = 0;
  for (const auto& d : docs) bytes += d.size();
  {
    std::ofstream out(text_path, std::ios::binary);
    for (size_t i = 0; i < docs.size(); ++i) out << (i ? "\x1e" : "") << docs[i];
  }
  const double one = median_seconds(repeats, [&] {
    tokens = 0;
    for (const auto& d : docs) tokens += tok.encode(d, false).size();
  });
  const double all = median_seconds(repeats, [&] { tok.encode_batch(docs, false); });

  nlohmann::json r;
  r["benchmark"] = "tokenizer_encode_throughput";
  r["tokenizer"] = tokenizer_path;
  r["bytes"] = bytes;
  r["tokens"] = tokens;
  r["threads"] = grpo::ThreadPool::shared().size();
  r["device"] = "cpu (" + std::to_string(std::thread::hardware_concurrency()) + " hardware threads)";
  r["repeats"] = repeats;
  r["one_thread_mb_per_s"] = bytes / 1e6 / one;
  r["all_threads_mb_per_s"] = bytes / 1e6 / all;
  const auto baseline = run_baseline(source + "/bench/tokenizer/hf_tokenizers_baseline.py", tokenizer_path, text_path, repeats);
  r["baseline"] = baseline;
  if (!baseline.is_null()) {
    r["ratio_one_thread"] = r["one_thread_mb_per_s"].get<double>() / baseline["one_thread_mb_per_s"].get<double>();
    r["ratio_all_threads"] = r["all_threads_mb_per_s"].get<double>() / baseline["all_threads_mb_per_s"].get<double>();
    r["same_token_count"] = baseline["tokens"].get<size_t>() == tokens;
  }
  std::cout << r.dump(2) << "\n";
  return 0;
}
