// Scores a GRPO-sized batch of code completions through the `code` reward, with interpreters
// started per test (warm 0, the baseline) and started ahead (warm N), and shows where one test's
// time goes: Python's start-up (plain fork+exec, with and without site imports), the sandbox
// around it, and the program. The batch is generated, not sampled from a model: small functions
// (some right, some wrong, some raising) with 3-10 asserts each, and one infinite loop that runs
// into the timeout. Figures are medians of --repeats runs; timings on a shared machine are noisy.
// Usage: code_reward_bench [--samples 512] [--repeats 3] [--configs 2:0,2:2,2:4] [--timeout 1.0],
// each config being `concurrency:warm` (sandbox slots : warm interpreters; the first is the
// baseline the others are compared with).
// Prints one JSON object.
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <random>
#include <sstream>
#include <stdexcept>
#include <thread>

#include <nlohmann/json.hpp>

#include "rewards/code/sandbox.h"
#include "rewards/reward_set.h"

namespace {

using Clock = std::chrono::steady_clock;
using grpo::rewards::Sample;

double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0.0 : v[v.size() / 2];
}

// A task: a right solution, a wrong one, one that raises, and cases as (call, expected value).
struct Task {
  const char* right;
  const char* wrong;
  const char* raising;
  std::vector<std::pair<std::string, std::string>> cases;
};

std::vector<Task> tasks() {
  return {
      {"def add(a, b):\n    return a + b\n", "def add(a, b):\n    return a - b\n",
       "def add(a, b):\n    return a + b + None\n",
       {{"add(1, 2)", "3"}, {"add(-1, 1)", "0"}, {"add(10, 5)", "15"}, {"add(0, 0)", "0"}, {"add(7, -9)", "-2"},
        {"add(100, 1)", "101"}, {"add(3, 3)", "6"}, {"add(-4, -4)", "-8"}, {"add(2, 40)", "42"}, {"add(5, 0)", "5"}}},
      {"def is_prime(n):\n    if n < 2:\n        return False\n    i = 2\n    while i * i <= n:\n        if n % i == 0:\n"
       "            return False\n        i += 1\n    return True\n",
       "def is_prime(n):\n    return n % 2 == 1\n", "def is_prime(n):\n    return [2, 3, 5][n]\n",
       {{"is_prime(2)", "True"}, {"is_prime(9)", "False"}, {"is_prime(97)", "True"}, {"is_prime(1)", "False"},
        {"is_prime(15)", "False"}, {"is_prime(13)", "True"}, {"is_prime(7919)", "True"}, {"is_prime(100)", "False"}}},
      {"def reverse_words(s):\n    return ' '.join(reversed(s.split()))\n",
       "def reverse_words(s):\n    return s[::-1]\n", "def reverse_words(s):\n    return s.split()[5]\n",
       {{"reverse_words('a b c')", "'c b a'"}, {"reverse_words('hello world')", "'world hello'"},
        {"reverse_words('one')", "'one'"}, {"reverse_words('x  y')", "'y x'"}, {"reverse_words('')", "''"}}},
      {"def fib(n):\n    a, b = 0, 1\n    for _ in range(n):\n        a, b = b, a + b\n    return a\n",
       "def fib(n):\n    return n if n < 2 else fib(n - 1) + fib(n - 3)\n",
       "def fib(n):\n    return fib(n - 1) + fib(n - 2)\n",
       {{"fib(0)", "0"}, {"fib(1)", "1"}, {"fib(10)", "55"}, {"fib(20)", "6765"}, {"fib(2)", "1"}, {"fib(30)", "832040"}}},
      {"from collections import Counter\ndef most_common(xs):\n    return Counter(xs).most_common(1)[0][0]\n",
       "def most_common(xs):\n    return xs[0]\n", "def most_common(xs):\n    return max(set(xs), key=xs.count) / 0\n",
       {{"most_common([1, 2, 2, 3])", "2"}, {"most_common(['a', 'b', 'b'])", "'b'"}, {"most_common([5])", "5"},
        {"most_common([3, 3, 1, 1, 1])", "1"}, {"most_common([0, 0, 9])", "0"}, {"most_common('mississippi')", "'i'"},
        {"most_common([4, 4, 4, 2])", "4"}}},
  };
}

// One completion: prose, the solution in a ```python block; tests: 3-10 asserts.
std::vector<Sample> make_batch(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  const auto all = tasks();
  std::vector<Sample> batch(n);
  for (size_t i = 0; i < n; ++i) {
    const Task& task = all[rng() % all.size()];
    const unsigned kind = rng() % 10;  // 6 right, 3 wrong, 1 raising
    std::string code = kind < 6 ? task.right : kind < 9 ? task.wrong : task.raising;
    if (i == n / 2) code = "def add(a, b):\n    while True:\n        pass\n";  // the infinite loop
    const size_t count = std::min<size_t>(3 + rng() % 8, task.cases.size());
    nlohmann::json tests = nlohmann::json::array();
    for (size_t c = 0; c < count; ++c) {
      const auto& [call, expected] = task.cases[(c + rng()) % task.cases.size()];
      tests.push_back("assert " + call + " == " + expected);
    }
    if (i == n / 2) tests = {"assert add(1, 2) == 3", "assert add(2, 2) == 4", "assert add(0, 0) == 0"};
    batch[i].completion = "Let me solve it.\n```python\n" + code + "```\nThis should work.";
    batch[i].extra = {{"tests", tests}};
  }
  return batch;
}

size_t test_count(const std::vector<Sample>& batch) {
  size_t n = 0;
  for (const auto& s : batch) n += s.extra.at("tests").size();
  return n;
}

// Plain fork+exec of the interpreter, no sandbox: wall seconds and children's CPU seconds per run.
std::pair<double, double> plain_start(const std::vector<std::string>& argv, size_t n) {
  std::vector<char*> c_argv;
  for (const auto& a : argv) c_argv.push_back(const_cast<char*>(a.c_str()));
  c_argv.push_back(nullptr);
  rusage before, after;
  getrusage(RUSAGE_CHILDREN, &before);
  const auto start = Clock::now();
  for (size_t i = 0; i < n; ++i) {
    const pid_t pid = fork();
    if (pid == 0) {
      execv(c_argv[0], c_argv.data());
      _exit(127);
    }
    int status;
    waitpid(pid, &status, 0);
  }
  const double wall = seconds_since(start) / static_cast<double>(n);
  getrusage(RUSAGE_CHILDREN, &after);
  auto cpu = [](const rusage& r) {
    return r.ru_utime.tv_sec + r.ru_stime.tv_sec + (r.ru_utime.tv_usec + r.ru_stime.tv_usec) * 1e-6;
  };
  return {wall, (cpu(after) - cpu(before)) / static_cast<double>(n)};
}

// Median seconds of one sandboxed run of `code` (one slot), from run() to its result. The pause
// between runs stands for idle cores: it gives a warm child's replacement time to start.
double sandboxed_latency(const std::string& code, size_t n, size_t warm) {
  grpo::rewards::Sandbox sandbox({}, 1, warm);
  grpo::rewards::SandboxProgram p;
  p.argv = {grpo::rewards::sandbox_python(), "-I", "-c", code};
  std::vector<double> seconds;
  for (size_t i = 0; i < n; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(150));
    const auto start = Clock::now();
    if (!sandbox.run(p).ok()) std::abort();
    seconds.push_back(seconds_since(start));
  }
  return median(seconds);
}

// "2:0,2:2" -> {{2, 0}, {2, 2}}
std::vector<std::pair<size_t, size_t>> parse_configs(const std::string& text) {
  std::vector<std::pair<size_t, size_t>> out;
  std::stringstream in(text);
  for (std::string item; std::getline(in, item, ',');) {
    const size_t colon = item.find(':');
    if (colon == std::string::npos) throw std::runtime_error("a config is concurrency:warm, got '" + item + "'");
    out.emplace_back(std::strtoul(item.c_str(), nullptr, 10), std::strtoul(item.c_str() + colon + 1, nullptr, 10));
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  size_t samples = 512, repeats = 3;
  double timeout = 1.0;
  std::vector<std::pair<size_t, size_t>> configs = {{2, 0}, {2, 2}, {2, 4}};
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string key = argv[i], value = argv[i + 1];
    if (key == "--samples") samples = std::strtoul(value.c_str(), nullptr, 10);
    else if (key == "--repeats") repeats = std::max<size_t>(1, std::strtoul(value.c_str(), nullptr, 10));
    else if (key == "--configs") configs = parse_configs(value);
    else if (key == "--timeout") timeout = std::strtod(value.c_str(), nullptr);
    else {
      std::cerr << "unknown option " << key << "\n";
      return 2;
    }
  }
  const auto batch = make_batch(samples, 26);
  const size_t tests = test_count(batch);
  const std::string python = grpo::rewards::sandbox_python();

  // Where one test's time goes.
  std::vector<double> with_site, without_site, with_site_cpu, without_site_cpu, sandbox_pass, sandbox_test, warm_test;
  const std::string typical_test =
      "def fib(n):\n    a, b = 0, 1\n    for _ in range(n):\n        a, b = b, a + b\n    return a\n"
      "assert fib(10) == 55\nassert fib(20) == 6765\nassert fib(30) == 832040\n";
  for (size_t r = 0; r < repeats; ++r) {
    const auto [site_wall, site_cpu] = plain_start({python, "-I", "-c", "pass"}, 20);
    const auto [bare_wall, bare_cpu] = plain_start({python, "-I", "-S", "-c", "pass"}, 20);
    with_site.push_back(site_wall);
    with_site_cpu.push_back(site_cpu);
    without_site.push_back(bare_wall);
    without_site_cpu.push_back(bare_cpu);
    sandbox_pass.push_back(sandboxed_latency("pass", 20, 0));
    sandbox_test.push_back(sandboxed_latency(typical_test, 20, 0));
    warm_test.push_back(sandboxed_latency(typical_test, 20, 1));
  }

  nlohmann::json runs = nlohmann::json::array();
  double baseline = 0.0;
  for (const auto& [concurrency, warm] : configs) {
    const nlohmann::json params = {{"timeout", timeout}, {"cpu_seconds", 1}, {"concurrency", concurrency}, {"warm", warm}};
    grpo::rewards::RewardSet set({{"code", 1.0, params}});
    std::vector<double> seconds;
    double mean_value = 0.0;
    for (size_t r = 0; r < repeats; ++r) {
      const auto start = Clock::now();
      const auto scores = set.score(batch);
      seconds.push_back(seconds_since(start));
      mean_value = 0.0;
      for (const auto& row : scores.values) mean_value += row[0] / static_cast<double>(samples);
    }
    const double scores_per_s = static_cast<double>(samples) / median(seconds);
    if (runs.empty()) baseline = scores_per_s;
    runs.push_back({{"concurrency", concurrency},
                    {"warm", warm},
                    {"seconds", seconds},
                    {"median_seconds", median(seconds)},
                    {"scores_per_s", scores_per_s},
                    {"tests_per_s", static_cast<double>(tests) / median(seconds)},
                    {"ratio_vs_first", scores_per_s / baseline},
                    {"mean_reward", mean_value}});
  }
  const nlohmann::json out = {
      {"benchmark", "code_reward_batch"},
      {"samples", samples},
      {"tests", tests},
      {"repeats", repeats},
      {"timeout_s", timeout},
      {"cores", std::max(1u, std::thread::hardware_concurrency())},
      {"runs", runs},
      {"per_test_ms",
       {{"python_start_plain_wall", 1e3 * median(with_site)},
        {"python_start_plain_cpu", 1e3 * median(with_site_cpu)},
        {"python_start_no_site_wall", 1e3 * median(without_site)},
        {"python_start_no_site_cpu", 1e3 * median(without_site_cpu)},
        {"sandboxed_pass_wall", 1e3 * median(sandbox_pass)},
        {"sandboxed_typical_test_wall", 1e3 * median(sandbox_test)},
        {"warm_sandboxed_typical_test_wall", 1e3 * median(warm_test)}}},
      {"isolation", grpo::rewards::Sandbox::isolation()},
      {"device", "cpu"}};
  std::cout << out.dump(2) << "\n";
}
