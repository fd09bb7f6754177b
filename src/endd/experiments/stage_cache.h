#pragma once
// Finished stages of a long experiment (the trained ensemble, each student),
// kept in DIR/stages/ so that a rerun into the same directory resumes after
// the last finished stage instead of starting over. A stage is reused only if
// the settings it was trained with (its fingerprint: the configuration keys
// that shape it) are the ones asked for now; otherwise it is trained again and
// the old file replaced. Files are written atomically.
#include <torch/nn/module.h>

#include <string>

namespace endd::experiments {

class StageCache {
 public:
  /// Stages live in `dir`/stages; an empty `dir` disables the cache.
  explicit StageCache(const std::string& dir);

  /// Restores `net`'s parameters and buffers and the stage's training seconds
  /// from `name`.pt if it holds a stage with this fingerprint and matching
  /// shapes; false (and `net` untouched) otherwise. A damaged file is reported
  /// on stderr and treated as absent.
  bool restore(const std::string& name, const std::string& fingerprint, torch::nn::Module& net,
               double& seconds) const;

  void save(const std::string& name, const std::string& fingerprint, const torch::nn::Module& net,
            double seconds) const;

 private:
  std::string dir_;
};

}  // namespace endd::experiments
