// Progress display for long loops (training steps, generation, scoring). On a terminal it
// redraws one line with a bar, rate and ETA; otherwise it prints a plain line at most every
// `plain_interval_s` seconds, so logs and CI output stay readable. It never blocks work.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace grpo {

class Progress {
 public:
  // total = 0 means unknown (no bar or ETA). unit names what is counted ("steps", "tok").
  Progress(std::string label, int64_t total, std::string unit, double plain_interval_s = 10.0);
  ~Progress();
  // Adds `n` to the count; `status` is shown after the numbers (e.g. "reward 0.41").
  void advance(int64_t n, const std::string& status = "");
  void finish(const std::string& status = "");

  // The text of one progress line; public for tests.
  static std::string render(const std::string& label, int64_t done, int64_t total, const std::string& unit,
                            double elapsed_s, const std::string& status, bool with_bar);

 private:
  void draw(bool force);
  std::string label_, unit_, status_;
  int64_t total_, done_ = 0;
  bool tty_, finished_ = false;
  double plain_interval_s_;
  std::chrono::steady_clock::time_point start_, last_draw_;
};

}  // namespace grpo
