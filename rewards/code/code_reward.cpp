// The code reward: runs the completion's last ```python (or ```py, or bare ```) block against
// the record's tests in the sandbox; value = fraction of tests passed (`mode: fraction`) or 1
// only when all pass (`mode: all`). Python only. Tests sit in the record's `tests` field (name
// configurable) as a list whose items are either a string of assert-style Python (run after the
// solution, in its namespace) or {"input", "output"} (competitive-programming style: the
// solution reads `input` on stdin and its stdout must equal `output` line by line, ignoring
// trailing whitespace on each line and trailing empty lines, as Codeforces-style checkers do).
// Each test runs in its own process, so one test cannot fake another's result. With `warm: N`
// the sandbox keeps N interpreters started ahead (sandbox.h), each still serving one test.
// An assert test passes only if the harness prints a per-run random token after the asserts;
// a solution that calls exit() fails. A solution that deliberately introspects the harness to
// find the token can still forge a pass: this guards against accidents, not a hostile model.
#include <algorithm>
#include <memory>
#include <random>

#include "core/error.h"
#include "rewards/builtin.h"
#include "rewards/code/sandbox.h"
#include "rewards/reward.h"

namespace grpo::rewards {
namespace {

// Interpreters kept started ahead by default; see docs/rewards.md for the measurements.
constexpr size_t kDefaultWarm = 2;

constexpr const char* kHarness = R"PY(import os, sys
def _grpo_run(token=os.environ.pop("GRPO_TOKEN", "")):
    namespace = {"__name__": "__main__", "__builtins__": __builtins__}
    try:
        with open("solution.py") as f:
            solution = f.read()
        with open("test.py") as f:
            test = f.read()
        exec(compile(solution, "solution.py", "exec"), namespace)
        exec(compile(test, "test.py", "exec"), namespace)
    except SystemExit:
        os._exit(3)
    sys.stdout.flush()
    os.write(1, ("\n" + token + "\n").encode())
    os._exit(0)
_grpo_run()
)PY";

// The last fenced block tagged python/py/python3 or untagged; "" when there is none.
std::string extract_python(const std::string& text) {
  std::string found;
  size_t pos = 0;
  for (;;) {
    const size_t open = text.find("```", pos);
    if (open == std::string::npos) break;
    const size_t line_end = text.find('\n', open + 3);
    if (line_end == std::string::npos) break;
    const size_t close = text.find("```", line_end + 1);
    if (close == std::string::npos) break;
    std::string tag = text.substr(open + 3, line_end - open - 3);
    while (!tag.empty() && (tag.back() == ' ' || tag.back() == '\r')) tag.pop_back();
    if (tag.empty() || tag == "python" || tag == "py" || tag == "python3") found = text.substr(line_end + 1, close - line_end - 1);
    pos = close + 3;
  }
  return found;
}

std::string random_token() {
  std::random_device rd;
  char buf[40];
  snprintf(buf, sizeof buf, "grpo-pass-%08x%08x%08x", rd(), rd(), rd());
  return buf;
}

std::vector<std::string> lines_of(const std::string& s) {
  std::vector<std::string> lines;
  size_t start = 0;
  while (start <= s.size()) {
    size_t end = s.find('\n', start);
    if (end == std::string::npos) end = s.size();
    std::string line = s.substr(start, end - start);
    while (!line.empty() && (line.back() == ' ' || line.back() == '\r' || line.back() == '\t')) line.pop_back();
    lines.push_back(line);
    start = end + 1;
  }
  while (!lines.empty() && lines.back().empty()) lines.pop_back();
  return lines;
}

// What a reason shows of an expected or produced line.
std::string cut(const std::string& line) {
  constexpr size_t kShown = 40;
  return "'" + (line.size() > kShown ? line.substr(0, kShown) + "..." : line) + "'";
}

// "line 2: expected '6', got '7'" for the first line where `got` differs from `expected`.
std::string first_difference(const std::vector<std::string>& expected, const std::vector<std::string>& got) {
  for (size_t i = 0; i < std::max(expected.size(), got.size()); ++i) {
    if (i < expected.size() && i < got.size() && expected[i] == got[i]) continue;
    return "line " + std::to_string(i + 1) + ": expected " + (i < expected.size() ? cut(expected[i]) : "end of output") +
           ", got " + (i < got.size() ? cut(got[i]) : "end of output");
  }
  return "";
}

class CodeReward : public Reward {
 public:
  explicit CodeReward(Params& p) : tests_field_(p.get<std::string>("tests_field", "tests")) {
    const auto language = p.get<std::string>("language", "python");
    if (language != "python") throw Error("reward 'code': only language 'python' is supported, got '" + language + "'");
    const auto mode = p.get<std::string>("mode", "fraction");
    if (mode != "fraction" && mode != "all") throw Error("reward 'code': mode must be 'fraction' or 'all', got '" + mode + "'");
    all_or_nothing_ = mode == "all";
    SandboxLimits limits;
    limits.wall_seconds = p.get<double>("timeout", 10.0);
    limits.cpu_seconds = p.get<int>("cpu_seconds", 5);
    limits.memory_bytes = p.get<size_t>("memory_mb", 1024) << 20;
    limits.processes = p.get<int>("processes", 32);
    limits.file_bytes = p.get<size_t>("file_mb", 16) << 20;
    limits.open_files = p.get<int>("open_files", 64);
    limits.output_bytes = p.get<size_t>("output_kb", 1024) << 10;
    python_ = p.get<std::string>("python", "");
    if (python_.empty()) python_ = sandbox_python();
    const size_t concurrency = p.get<size_t>("concurrency", 0);
    sandbox_ = std::make_unique<Sandbox>(limits, concurrency, p.get<size_t>("warm", kDefaultWarm), python_);
  }

  bool runs_processes() const override { return true; }

  RewardResult score(const Sample& s) const override {
    if (!s.extra.contains(tests_field_)) throw Error("the record has no field '" + tests_field_ + "'");
    const auto& tests = s.extra.at(tests_field_);
    if (!tests.is_array() || tests.empty()) throw Error("field '" + tests_field_ + "' must be a non-empty list");
    const std::string code = extract_python(s.completion);
    if (code.empty()) return {0.0, "no ```python block"};
    size_t passed = 0;
    std::string first_failure;
    for (size_t i = 0; i < tests.size(); ++i) {
      const std::string why = run_test(code, tests[i], i);
      if (why.empty()) {
        ++passed;
        continue;
      }
      if (first_failure.empty()) first_failure = "test " + std::to_string(i + 1) + ": " + why;
      if (all_or_nothing_) break;  // the value is 0 whatever the rest do; skip their processes
    }
    std::string reason = all_or_nothing_ && !first_failure.empty()
                             ? "stopped at the first failure"
                             : std::to_string(passed) + "/" + std::to_string(tests.size()) + " tests passed";
    if (!first_failure.empty()) reason += "; " + first_failure;
    const double fraction = static_cast<double>(passed) / static_cast<double>(tests.size());
    return {all_or_nothing_ ? (passed == tests.size() ? 1.0 : 0.0) : fraction, reason};
  }

 private:
  // "" when the test passed, else a short reason.
  std::string run_test(const std::string& code, const nlohmann::json& test, size_t index) const {
    SandboxProgram program;
    if (test.is_string()) {
      const std::string token = random_token();
      program.argv = {python_, "-I", "harness.py"};
      program.files = {{"harness.py", kHarness}, {"solution.py", code}, {"test.py", test.get<std::string>()}};
      program.env = {{"GRPO_TOKEN", token}};
      const auto r = sandbox_->run(program);
      if (!r.ok()) return r.describe() + tail(r.stderr_text);
      const std::string expected_end = "\n" + token + "\n";
      const bool marked = r.stdout_text.size() >= expected_end.size() &&
                          r.stdout_text.compare(r.stdout_text.size() - expected_end.size(), expected_end.size(), expected_end) == 0;
      return marked ? "" : "the harness did not finish";
    }
    if (!test.is_object() || !test.contains("input") || !test.contains("output") || !test["input"].is_string() ||
        !test["output"].is_string()) {
      throw Error("field '" + tests_field_ + "'[" + std::to_string(index) +
                  "] must be an assert string or {\"input\": str, \"output\": str}");
    }
    program.argv = {python_, "-I", "solution.py"};
    program.files = {{"solution.py", code}};
    program.stdin_text = test["input"].get<std::string>();
    const auto r = sandbox_->run(program);
    if (!r.ok()) return r.describe() + tail(r.stderr_text);
    return first_difference(lines_of(test["output"].get<std::string>()), lines_of(r.stdout_text));
  }

  static std::string tail(const std::string& stderr_text) {
    const auto lines = lines_of(stderr_text);
    return lines.empty() ? "" : " (" + lines.back().substr(0, 80) + ")";
  }

  std::string tests_field_;
  bool all_or_nothing_ = false;
  std::string python_;
  std::unique_ptr<Sandbox> sandbox_;
};

}  // namespace

void register_code_reward() {
  register_reward("code", [](Params& p) { return std::make_unique<CodeReward>(p); });
}

}  // namespace grpo::rewards
