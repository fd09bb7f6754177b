#pragma once
// M copies of a user's TorchScript module (scripted or traced in Python) as
// an endd ensemble: members are evaluated one after another in one graph and
// trained by one optimiser, so everything that takes an EnsembleNet (training,
// distillation, checkpoints, early stopping) takes a user's architecture too.
//
// endd passes its data as rows [B, D]; each member sees them reshaped to
// [B, sample_shape...] (e.g. [B, 1, 28, 28] for a CNN), the shape the data
// had when the run was made.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "endd/models/ensemble_net.h"

namespace torch::jit {
struct Module;
}

namespace endd::models {

class ScriptedEnsemble : public EnsembleNet {
 public:
  /// Loads `members` copies of the TorchScript file `path`. With `init_seeds`
  /// (one per member) each copy is re-initialised as PyTorch initialises its
  /// layer types (models/default_init.h); without, every copy keeps the
  /// file's weights. Throws endd::Error naming the file if it is not a
  /// TorchScript module or its output on a sample batch is not [B, classes].
  ScriptedEnsemble(const std::string& path, int64_t members, std::vector<int64_t> sample_shape, int64_t classes,
                   const std::optional<std::vector<uint64_t>>& init_seeds);
  ~ScriptedEnsemble() override;

  at::Tensor forward(const at::Tensor& inputs) override;
  int64_t members() const override { return static_cast<int64_t>(modules_.size()); }
  int64_t num_classes() const override { return classes_; }
  at::Tensor member_part(size_t parameter_index, const at::Tensor& parameter, int64_t member) const override;
  void train(bool on = true) override;

  const torch::jit::Module& member(int64_t m) const;

 private:
  at::Tensor run_member(int64_t m, const at::Tensor& rows);

  std::string path_;
  std::vector<int64_t> sample_shape_;
  int64_t classes_;
  std::vector<torch::jit::Module> modules_;
  size_t parameters_per_member_ = 0;
};

/// The TorchScript module in `path`, loaded on the CPU; endd::Error naming
/// the file (and how to make one) if it is not one.
torch::jit::Module load_torchscript(const std::string& path);

}  // namespace endd::models
