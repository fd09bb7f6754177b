#include "endd/core/progress.h"

#include <unistd.h>

#include <cstdio>
#include <mutex>

namespace endd {
namespace {
std::string format_seconds(double s) {
  char buf[32];
  if (s < 60) {
    std::snprintf(buf, sizeof buf, "%.1fs", s);
  } else {
    int total = static_cast<int>(s + 0.5);
    std::snprintf(buf, sizeof buf, "%dm%02ds", total / 60, total % 60);
  }
  return buf;
}
}  // namespace

Progress::Progress(std::string stage, int64_t total, std::string unit, bool quiet)
    : stage_(std::move(stage)),
      total_(total),
      unit_(std::move(unit)),
      quiet_(quiet),
      terminal_(::isatty(STDERR_FILENO) == 1),
      start_(std::chrono::steady_clock::now()),
      last_print_(start_) {}

Progress::~Progress() {
  if (!finished_) finish();
}

void Progress::update(int64_t done, const std::string& status) {
  last_done_ = done;
  if (quiet_) return;
  auto now = std::chrono::steady_clock::now();
  double since = std::chrono::duration<double>(now - last_print_).count();
  // Redraw a terminal line at most 10 times a second; log lines every 5 s.
  if (since < (terminal_ ? 0.1 : 5.0)) return;
  last_print_ = now;
  print(done, status, false);
}

void Progress::finish(const std::string& status) {
  if (finished_) return;
  finished_ = true;
  if (quiet_) return;
  print(total_ > 0 ? total_ : last_done_, status, true);
}

void Progress::print(int64_t done, const std::string& status, bool final_line) {
  // Stages may run concurrently (students train side by side): one line at a time.
  static std::mutex print_mutex;
  std::lock_guard<std::mutex> lock(print_mutex);
  double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  double rate = elapsed > 0 ? done / elapsed : 0.0;
  std::string line = "[" + stage_ + "] ";
  char buf[160];
  if (total_ > 0) {
    std::snprintf(buf, sizeof buf, "%lld/%lld %s (%3.0f%%) %.1f %s/s", static_cast<long long>(done),
                  static_cast<long long>(total_), unit_.c_str(), 100.0 * done / total_, rate,
                  unit_.c_str());
  } else {
    std::snprintf(buf, sizeof buf, "%lld %s %.1f %s/s", static_cast<long long>(done), unit_.c_str(),
                  rate, unit_.c_str());
  }
  line += buf;
  if (rate > 0 && rate < 1) {
    // Slow stages (an epoch of a CNN ensemble): seconds per unit reads better.
    std::snprintf(buf, sizeof buf, " (%.1f s/%s)", 1.0 / rate, unit_.c_str());
    line += buf;
  }
  if (final_line) {
    line += " done in " + format_seconds(elapsed);
  } else if (total_ > 0 && rate > 0) {
    line += " ETA " + format_seconds((total_ - done) / rate);
  }
  if (!status.empty()) line += " " + status;
  if (terminal_) {
    std::fprintf(stderr, "\r\033[K%s%s", line.c_str(), final_line ? "\n" : "");
  } else {
    std::fprintf(stderr, "%s\n", line.c_str());
  }
  std::fflush(stderr);
}

}  // namespace endd
