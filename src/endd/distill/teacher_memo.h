#pragma once
// Teacher logits kept in this process for the next student that asks for the
// same teacher's outputs on the same inputs: an experiment's EnD and EnD^2
// students label the same training images, one after the other in a lane,
// and the second labelling took 28-42 s of the Fashion-MNIST run's
// longest lane. Exact: the same network on the same rows in the same batches gives
// the same numbers, so a student's results do not depend on what ran before.
#include <ATen/core/Tensor.h>

#include <cstddef>
#include <deque>
#include <mutex>
#include <string>
#include <utility>

namespace endd::distill {

/// A fingerprint of a tensor's shape, type and bytes (64-bit hash; a CPU
/// tensor, made contiguous if it is not).
std::string tensor_fingerprint(const at::Tensor& t);

/// A fingerprint of a file's bytes, "" if it cannot be read.
std::string file_fingerprint(const std::string& path);

class TeacherLogitsMemo {
 public:
  explicit TeacherLogitsMemo(bool enabled = true) : enabled_(enabled) {}

  /// The process's memo: off (finds nothing, keeps nothing) but while an
  /// `Enabled` lives, e.g. while an experiment trains its students; a
  /// single `endd distill` has no second student to keep logits for.
  static TeacherLogitsMemo& process();

  /// Turns the process's memo on for its lifetime, then off and empty.
  class Enabled {
   public:
    Enabled();
    ~Enabled();
    Enabled(const Enabled&) = delete;
    Enabled& operator=(const Enabled&) = delete;
  };

  /// The logits kept under `key`, or an undefined tensor.
  at::Tensor find(const std::string& key);
  /// Keeps a copy of `logits` under `key` (not if larger than kMaxBytes);
  /// the oldest entries go once more than kMaxBytes are held.
  void keep(const std::string& key, const at::Tensor& logits);
  size_t hits() const;
  void clear();
  void set_enabled(bool on);
  bool enabled() const;

  static constexpr size_t kMaxBytes = size_t(512) << 20;

 private:
  mutable std::mutex mutex_;
  std::deque<std::pair<std::string, at::Tensor>> entries_;  ///< oldest first
  size_t hits_ = 0;
  bool enabled_;
};

}  // namespace endd::distill
