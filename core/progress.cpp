// Progress line rendering; see progress.h.
#include "core/progress.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>

namespace grpo {
namespace {

std::string format_duration(double s) {
  if (s < 0 || s > 1e7) return "?";
  char buf[32];
  const int total = static_cast<int>(s + 0.5);
  if (total >= 3600)
    std::snprintf(buf, sizeof buf, "%dh%02dm", total / 3600, (total / 60) % 60);
  else
    std::snprintf(buf, sizeof buf, "%dm%02ds", total / 60, total % 60);
  return buf;
}

std::string format_rate(double r) {
  char buf[32];
  if (r >= 1e6) std::snprintf(buf, sizeof buf, "%.2fM", r / 1e6);
  else if (r >= 1e3) std::snprintf(buf, sizeof buf, "%.1fk", r / 1e3);
  else std::snprintf(buf, sizeof buf, "%.2f", r);
  return buf;
}

}  // namespace

Progress::Progress(std::string label, int64_t total, std::string unit, double plain_interval_s)
    : label_(std::move(label)), unit_(std::move(unit)), total_(total), tty_(isatty(STDERR_FILENO)),
      plain_interval_s_(plain_interval_s), start_(std::chrono::steady_clock::now()), last_draw_(start_) {}

Progress::~Progress() {
  if (!finished_ && done_ > 0) finish();
}

std::string Progress::render(const std::string& label, int64_t done, int64_t total, const std::string& unit,
                             double elapsed_s, const std::string& status, bool with_bar) {
  std::string line = label + " ";
  const double rate = elapsed_s > 0 ? done / elapsed_s : 0.0;
  if (total > 0) {
    const double frac = std::min(1.0, static_cast<double>(done) / total);
    if (with_bar) {
      const int width = 24, filled = static_cast<int>(frac * width);
      line += "[" + std::string(filled, '#') + std::string(width - filled, '.') + "] ";
    }
    char pct[16];
    std::snprintf(pct, sizeof pct, "%3.0f%%", frac * 100);
    line += std::to_string(done) + "/" + std::to_string(total) + " " + unit + " " + pct;
    const double eta = rate > 0 ? (total - done) / rate : -1;
    line += " | " + format_rate(rate) + " " + unit + "/s | elapsed " + format_duration(elapsed_s) + " | ETA " +
            format_duration(eta);
  } else {
    line += std::to_string(done) + " " + unit + " | " + format_rate(rate) + " " + unit + "/s | elapsed " +
            format_duration(elapsed_s);
  }
  if (!status.empty()) line += " | " + status;
  return line;
}

void Progress::advance(int64_t n, const std::string& status) {
  done_ += n;
  if (!status.empty()) status_ = status;
  draw(false);
}

void Progress::finish(const std::string& status) {
  if (!status.empty()) status_ = status;
  draw(true);
  if (tty_) std::fputc('\n', stderr);
  finished_ = true;
}

void Progress::draw(bool force) {
  const auto now = std::chrono::steady_clock::now();
  const double since_draw = std::chrono::duration<double>(now - last_draw_).count();
  const double min_interval = tty_ ? 0.1 : plain_interval_s_;
  if (!force && since_draw < min_interval) return;
  last_draw_ = now;
  const double elapsed = std::chrono::duration<double>(now - start_).count();
  const std::string line = render(label_, done_, total_, unit_, elapsed, status_, tty_);
  if (tty_)
    std::fprintf(stderr, "\r\033[2K%s", line.c_str());
  else
    std::fprintf(stderr, "%s\n", line.c_str());
  std::fflush(stderr);
}

}  // namespace grpo
