// The report of a real run as a browser shows it: a three-step GRPO run of a tiny policy on
// arithmetic prompts (with held-out evaluation and logged samples) through the `grpo` binary,
// its report rendered, then loaded in headless Chromium. After the page's script ran, the DOM
// must hold the four headline questions with their charts, the sample browser with its count
// filled in by the script, no script-error banner, and Chromium's log no uncaught error. The
// screenshot goes to <build>/test-output/report_browser/report.png. Then the smoothing slider,
// driven by a script appended to a copy of the page: every chart's smoothed line follows it,
// and the next load of the page (same browser profile) starts at the weight chosen last.
// Skips when Chromium is not installed (scripts/install-deps installs it).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <utility>
#include <vector>

#include "core/filesystem.h"
#include "core/run_store.h"
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

// CI runs as root, where Chromium's sandbox cannot start: --no-sandbox. Each test names its own
// profile, so what one page stores (the smoothing weight) reaches only the loads meant to see it.
std::string chromium_command(const std::string& chromium, const fs::path& profile) {
  return "timeout 120 " + chromium + " --headless --disable-gpu --no-sandbox --hide-scrollbars " +
         "--virtual-time-budget=5000 --user-data-dir=" + profile.string();
}

// The DOM after the page's script ran; Chromium's own log (console errors) goes to `log`.
std::string dump_dom(const std::string& chromium, const fs::path& profile, const fs::path& page, const fs::path& log) {
  // The subshell keeps stderr in `log`: run_command sends the command's stderr to its output.
  const auto dom = run_command("(" + chromium_command(chromium, profile) + " --enable-logging=stderr --v=0 --dump-dom " +
                               "file://" + fs::absolute(page).string() + " 2>" + log.string() + ")");
  EXPECT_EQ(dom.exit_code, 0) << dom.output << read_file(log);
  return dom.output;
}

void expect_no_script_errors(const std::string& html, const fs::path& log) {
  EXPECT_NE(html.find("data-report-ready=\"1\""), std::string::npos) << "the page's script did not finish";
  EXPECT_EQ(html.find("id=\"script-error\""), std::string::npos) << html.substr(0, 2000);
  const std::string text = read_file(log);
  for (const char* bad : {"Uncaught", "SyntaxError", "TypeError", "ReferenceError"})
    EXPECT_EQ(text.find(bad), std::string::npos) << bad << " in Chromium's log:\n" << text;
}

// "x,y x,y ..." (polylines of one line joined by '|') as pixel points.
std::vector<std::pair<double, double>> points_of(const std::string& attribute) {
  std::vector<std::pair<double, double>> points;
  std::string text = attribute;
  for (char& c : text)
    if (c == ',' || c == '|') c = ' ';
  std::istringstream in(text);
  for (double x, y; in >> x >> y;) points.emplace_back(x, y);
  return points;
}

// Appended to a copy of the report, it runs after the page's script: it records, for every
// chart, the raw polylines and the smoothed lines as drawn; with "#drive" in the URL it then
// moves the slider to 0, 0.95, 0.6 and 0.9 as a user would (an input event each) and records
// the lines at each weight. All of it goes into <pre id="slider-test"> as JSON.
const char* const kSliderProbe = R"js(<script>
(function () {
  var slider = document.getElementById("smoothing-slider"), shown = document.getElementById("smoothing-value");
  function attrs(nodes) { return Array.prototype.map.call(nodes, function (n) { return n.getAttribute("points"); }); }
  function lines() {
    var out = {};
    document.querySelectorAll("svg[data-chart]").forEach(function (svg) {
      out[svg.getAttribute("data-chart")] = Array.prototype.map.call(svg.querySelectorAll("g.line"), function (g) {
        return attrs(g.querySelectorAll("polyline")).join("|");
      });
    });
    return out;
  }
  function set(weight) { slider.value = weight; slider.dispatchEvent(new Event("input")); }
  var raw = {};
  document.querySelectorAll("svg[data-chart]").forEach(function (svg) {
    raw[svg.getAttribute("data-chart")] = attrs(svg.querySelectorAll("polyline.raw"));
  });
  var result = {raw: raw, loaded: lines(), loaded_weight: shown.textContent};
  if (location.hash === "#drive") {
    set("0"); result.at_0 = lines();
    set("0.95"); result.at_095 = lines(); result.shown_095 = shown.textContent;
    set("0.6"); result.at_06 = lines();
    set("0.9"); result.stored = window.localStorage.getItem("grpo-report-smoothing");
  }
  var pre = document.createElement("pre");
  pre.id = "slider-test";
  pre.textContent = JSON.stringify(result);
  document.body.appendChild(pre);
})();
</script>)js";

nlohmann::json probe_slider(const std::string& chromium, const fs::path& profile, const fs::path& page,
                            const fs::path& log, const std::string& hash) {
  const std::string html = dump_dom(chromium, profile, page.string() + hash, log);
  expect_no_script_errors(html, log);
  const size_t begin = html.find("<pre id=\"slider-test\">");
  if (begin == std::string::npos) {
    ADD_FAILURE() << "the probe wrote no result:\n" << html.substr(0, 2000);
    return nlohmann::json::object();
  }
  const size_t start = begin + std::string("<pre id=\"slider-test\">").size();
  std::string text = html.substr(start, html.find("</pre>", start) - start);
  for (const auto& [entity, character] : {std::pair<std::string, std::string>{"&quot;", "\""}, {"&lt;", "<"},
                                          {"&gt;", ">"}, {"&amp;", "&"}})
    for (size_t at = text.find(entity); at != std::string::npos; at = text.find(entity, at + 1))
      text.replace(at, entity.size(), character);
  return nlohmann::json::parse(text);
}

// The debiased EMA of the pixel ys of `raw` (report/series.h's formula): a chart maps values to
// pixels by an affine map, which commutes with an average whose weights sum to one, so this is
// where the smoothed line at `weight` must lie, to the 0.05 pixel rounding of the raw points.
std::vector<std::pair<double, double>> smoothed_pixels(const std::vector<std::pair<double, double>>& raw, double weight) {
  std::vector<std::pair<double, double>> out;
  double average = 0, kept = 1;
  for (const auto& [x, y] : raw) {
    average = weight * average + (1 - weight) * y;
    kept *= weight;
    out.emplace_back(x, average / (1 - kept));
  }
  return out;
}

// Whether two drawn lines are the same points, to `slack` pixels.
void expect_points_near(const std::vector<std::pair<double, double>>& actual,
                        const std::vector<std::pair<double, double>>& expected, double slack, const std::string& what) {
  ASSERT_EQ(actual.size(), expected.size()) << what;
  for (size_t i = 0; i < actual.size(); ++i) {
    EXPECT_NEAR(actual[i].first, expected[i].first, slack) << what << " point " << i;
    EXPECT_NEAR(actual[i].second, expected[i].second, slack) << what << " point " << i;
  }
}

double largest_y_change(const std::vector<std::pair<double, double>>& a, const std::vector<std::pair<double, double>>& b) {
  double largest = 0;
  for (size_t i = 0; i < std::min(a.size(), b.size()); ++i) largest = std::max(largest, std::fabs(a[i].second - b[i].second));
  return largest;
}

}  // namespace

TEST(ReportInBrowser, HeadlineChartsAndSampleBrowserRenderWithoutScriptErrors) {
  const std::string chromium = chromium_binary();
  if (chromium.empty()) GTEST_SKIP() << "chromium is not installed (scripts/install-deps installs it)";
  const fs::path root = grpo::testing::cli_scratch("browser", "report");
  const fs::path run = make_run(root);
  const auto report = run_command(kGrpo + " report " + run.string());
  ASSERT_EQ(report.exit_code, 0) << report.output;
  const std::string html = dump_dom(chromium, root / "profile", run / "report.html", root / "chromium.log");
  expect_no_script_errors(html, root / "chromium.log");
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

  const fs::path out = fs::path(GRPO_BINARY_DIR) / "test-output" / "report_browser";
  fs::create_directories(out);
  fs::remove(out / "report.png");
  const auto shot = run_command(chromium_command(chromium, root / "profile") + " --window-size=1400,2000 --screenshot=" +
                                (out / "report.png").string() + " file://" + fs::absolute(run / "report.html").string());
  ASSERT_EQ(shot.exit_code, 0) << shot.output;
  ASSERT_TRUE(fs::exists(out / "report.png")) << shot.output;
  EXPECT_GT(fs::file_size(out / "report.png"), 10000u);
  grpo::remove_tree(root);
}

TEST(ReportInBrowser, SmoothingSliderRedrawsEveryChartAndTheNextLoadStartsWhereItWasLeft) {
  const std::string chromium = chromium_binary();
  if (chromium.empty()) GTEST_SKIP() << "chromium is not installed (scripts/install-deps installs it)";
  const fs::path root = grpo::testing::cli_scratch("browser", "smoothing");
  {
    // Three metrics that zigzag, so every weight draws a different line in every chart.
    grpo::RunStoreWriter store((root / "run.db").string());
    store.set_meta("run_name", "smoothing");
    for (int step = 1; step <= 10; ++step)
      store.log_metrics(step, {{"reward/accuracy", step % 2 == 0 ? 0.9 : 0.1 * step / 10},
                               {"actor/entropy", 2.0 / step + (step % 3) * 0.3},
                               {"time/step_s", 4.0 + (step % 2) * 3.0 + step * 0.1}});
    store.flush();
  }
  const auto report = run_command(kGrpo + " report " + root.string());
  ASSERT_EQ(report.exit_code, 0) << report.output;
  std::string page = read_file(root / "report.html");
  page.insert(page.rfind("</body>"), kSliderProbe);
  std::ofstream(root / "probe.html") << page;

  const auto driven = probe_slider(chromium, root / "profile", root / "probe.html", root / "drive.log", "#drive");
  ASSERT_TRUE(driven.contains("at_095")) << driven.dump().substr(0, 2000);
  EXPECT_EQ(driven.at("loaded_weight"), "0.60");
  EXPECT_EQ(driven.at("shown_095"), "0.95");
  EXPECT_EQ(driven.at("stored"), "0.9");
  ASSERT_GE(driven.at("raw").size(), 3u) << "a chart for each metric at least";
  for (const auto& [chart, raws] : driven.at("raw").items()) {
    ASSERT_EQ(raws.size(), driven.at("loaded").at(chart).size()) << chart << ": a smoothed line per raw line";
    for (size_t i = 0; i < raws.size(); ++i) {
      const std::string what = "chart " + chart + " series " + std::to_string(i);
      const auto raw = points_of(raws[i].get<std::string>());
      const auto loaded = points_of(driven.at("loaded").at(chart)[i].get<std::string>());
      const auto at_095 = points_of(driven.at("at_095").at(chart)[i].get<std::string>());
      ASSERT_EQ(raw.size(), 10u) << what;
      // As the page drew it (C++, weight 0.6), and as the script redraws 0, 0.95 and 0.6 again.
      expect_points_near(loaded, smoothed_pixels(raw, 0.6), 0.11, what + " as loaded");
      expect_points_near(points_of(driven.at("at_0").at(chart)[i].get<std::string>()), raw, 0.11, what + " at 0");
      expect_points_near(at_095, smoothed_pixels(raw, 0.95), 0.11, what + " at 0.95");
      expect_points_near(points_of(driven.at("at_06").at(chart)[i].get<std::string>()), loaded, 0.11, what + " at 0.6");
      EXPECT_GT(largest_y_change(at_095, loaded), 2.0) << what << ": the slider moved the line";
    }
  }

  // A new load in the same profile starts at the weight last chosen (0.9), and draws it.
  const auto reloaded = probe_slider(chromium, root / "profile", root / "probe.html", root / "reload.log", "");
  ASSERT_TRUE(reloaded.contains("loaded")) << reloaded.dump().substr(0, 2000);
  EXPECT_EQ(reloaded.at("loaded_weight"), "0.90");
  for (const auto& [chart, raws] : reloaded.at("raw").items())
    for (size_t i = 0; i < raws.size(); ++i)
      expect_points_near(points_of(reloaded.at("loaded").at(chart)[i].get<std::string>()),
                         smoothed_pixels(points_of(raws[i].get<std::string>()), 0.9), 0.11,
                         "chart " + chart + " series " + std::to_string(i) + " reloaded");
  grpo::remove_tree(root);
}
