#pragma once
// One progress line per stage: rate and ETA, redrawn in place on a terminal,
// plain lines (at most one every few seconds) when stderr is not a terminal,
// nothing at all when quiet.
#include <chrono>
#include <cstdint>
#include <string>

namespace endd {

class Progress {
 public:
  /// `unit` names what is counted ("epochs", "steps"); total 0 means unknown.
  Progress(std::string stage, int64_t total, std::string unit, bool quiet);
  ~Progress();
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

  /// Reports `done` units so far and an optional short status ("loss 0.31").
  void update(int64_t done, const std::string& status = "");
  /// Prints the final line (elapsed time); called by the destructor if needed.
  void finish(const std::string& status = "");

 private:
  void print(int64_t done, const std::string& status, bool final_line);

  std::string stage_;
  int64_t total_;
  std::string unit_;
  bool quiet_;
  bool terminal_;
  bool finished_ = false;
  int64_t last_done_ = 0;
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point last_print_;
};

}  // namespace endd
