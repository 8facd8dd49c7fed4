// The report of a real run as a browser shows it: a three-step GRPO run of a tiny policy on
// arithmetic prompts (with held-out evaluation and logged samples) through the `grpo` binary,
// its report rendered, then loaded in headless Chromium. After the page's script ran, the DOM
// must hold the four headline questions with their charts, the sample browser with its count
// filled in by the script, no script-error banner, and Chromium's log no uncaught error. The
// screenshot goes to <build>/test-output/report_browser/report.png. Skips when Chromium is
// not installed (scripts/install-deps installs it).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "core/filesystem.h"
#include "tests/cli/cli_files.h"
#include "tests/cli/tiny_policy.h"
#include "tests/common/run_command.h"

namespace fs = std::filesystem;
using grpo::testing::run_command;

namespace {

const std::string kGrpo = GRPO_BIN;

std::string chromium_binary() {
  for (const char* name : {"chromium", "chromium-browser", "google-chrome"}) {
    const auto found = run_command(std::string("command -v ") + name);
    if (found.exit_code == 0 && !found.output.empty()) return found.output.substr(0, found.output.find('\n'));
  }
  return "";
}

size_t count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

std::string read_file(const fs::path& path) {
  std::ifstream in(path);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// A short GRPO run like the quickstart's: accuracy and format rewards, eval at steps 0 and 2.
fs::path make_run(const fs::path& root) {
  std::vector<std::string> corpus;
  {
    std::ofstream train(root / "train.jsonl"), eval(root / "eval.jsonl");
    for (int a = 1; a <= 8; ++a) {
      const std::string prompt = "What is " + std::to_string(a) + " + " + std::to_string(a + 1) + "?";
      (a <= 6 ? train : eval) << "{\"prompt\": \"" << prompt << "\", \"answer\": \"" << 2 * a + 1 << "\"}\n";
      corpus.push_back(prompt + " <think>" + std::to_string(a) + " + " + std::to_string(a + 1) + " wait, let me check" +
                       "</think><answer>" + std::to_string(2 * a + 1) + "</answer>");
    }
  }
  grpo::testing::make_tiny_policy(root / "policy", corpus, 256);
  std::ofstream(root / "rl.yaml")
      << "run:\n  name: browser\n  seed: 3\n  device: cpu\n  threads: 1\n  log_level: warn\n"
         "policy:\n  path: " + (root / "policy").string() + "\n  template: raw\n"
         "data:\n  train:\n    path: " + (root / "train.jsonl").string() + "\n    format: prompt_answer\n"
         "  eval:\n    path: " + (root / "eval.jsonl").string() + "\n    format: prompt_answer\n  eval_limit: 2\n"
         "rollout:\n  max_new_tokens: 12\n  max_batch_sequences: 16\n"
         "rewards:\n  - name: math_accuracy\n  - name: format\n    weight: 0.2\n    params: {mode: lenient}\n"
         "rl:\n  group_size: 4\n  batch_size: 8\n  micro_batch_size: 8\n"
         "train:\n  steps: 3\n  save_every: 0\n  eval_every: 2\n  eval_samples: 2\n  log_samples: 8\n";
  const auto rl = run_command(kGrpo + " rl " + (root / "rl.yaml").string() + " --run-dir " + (root / "run").string());
  EXPECT_EQ(rl.exit_code, 0) << rl.output;
  return root / "run";
}

}  // namespace

TEST(ReportInBrowser, HeadlineChartsAndSampleBrowserRenderWithoutScriptErrors) {
  const std::string chromium = chromium_binary();
  if (chromium.empty()) GTEST_SKIP() << "chromium is not installed (scripts/install-deps installs it)";
  const fs::path root = grpo::testing::cli_scratch("browser", "report");
  const fs::path run = make_run(root);
  const auto report = run_command(kGrpo + " report " + run.string());
  ASSERT_EQ(report.exit_code, 0) << report.output;
  const std::string url = "file://" + fs::absolute(run / "report.html").string();

  // CI runs as root, where Chromium's sandbox cannot start: --no-sandbox.
  const std::string flags = " --headless --disable-gpu --no-sandbox --hide-scrollbars --virtual-time-budget=5000";
  const auto dom = run_command("timeout 120 " + chromium + flags + " --enable-logging=stderr --v=0 --dump-dom " + url +
                               " 2>" + (root / "chromium.log").string());
  ASSERT_EQ(dom.exit_code, 0) << dom.output << read_file(root / "chromium.log");
  const std::string& html = dom.output;
  EXPECT_NE(html.find("data-report-ready=\"1\""), std::string::npos) << "the page's script did not finish";
  EXPECT_EQ(html.find("id=\"script-error\""), std::string::npos) << html.substr(0, 2000);
  for (const char* id : {"learning", "aha", "healthy", "time"})
    EXPECT_NE(html.find("class=\"question\" id=\"" + std::string(id) + "\""), std::string::npos) << id;
  EXPECT_NE(html.find("<figcaption>accuracy</figcaption>"), std::string::npos);
  EXPECT_NE(html.find("<figcaption>held-out pass@k</figcaption>"), std::string::npos);
  EXPECT_NE(html.find("<figcaption>completion length</figcaption>"), std::string::npos);
  EXPECT_NE(html.find("<figcaption>entropy</figcaption>"), std::string::npos);
  EXPECT_NE(html.find("<figcaption>seconds per step</figcaption>"), std::string::npos);
  EXPECT_GE(count(html, "<svg data-chart="), 10u);
  EXPECT_NE(html.find("id=\"sample-browser\""), std::string::npos);
  EXPECT_NE(html.find("of 8 completions of step 3 shown</span>"), std::string::npos) << "filled in by the script";
  EXPECT_EQ(count(html, "class=\"sample-step\""), 3u) << "every step logged samples";
  EXPECT_EQ(count(html, "class=\"prompt-group\""), 3u * 2u) << "two prompts a step";
  const std::string log = read_file(root / "chromium.log");
  for (const char* bad : {"Uncaught", "SyntaxError", "TypeError", "ReferenceError"})
    EXPECT_EQ(log.find(bad), std::string::npos) << bad << " in Chromium's log:\n" << log;

  const fs::path out = fs::path(GRPO_BINARY_DIR) / "test-output" / "report_browser";
  fs::create_directories(out);
  fs::remove(out / "report.png");
  const auto shot = run_command("timeout 120 " + chromium + flags + " --window-size=1400,2000 --screenshot=" +
                                (out / "report.png").string() + " " + url);
  ASSERT_EQ(shot.exit_code, 0) << shot.output;
  ASSERT_TRUE(fs::exists(out / "report.png")) << shot.output;
  EXPECT_GT(fs::file_size(out / "report.png"), 10000u);
  grpo::remove_tree(root);
}
