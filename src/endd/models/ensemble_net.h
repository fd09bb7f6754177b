#pragma once
// The interface every trainable network family in endd implements: M members
// evaluated together. A single model (a student) is an ensemble of one.
#include <torch/nn/module.h>

#include <cstdint>
#include <vector>

namespace endd::models {

class EnsembleNet : public torch::nn::Module {
 public:
  /// Member logits [M, B, K] for inputs shared by all members [B, D...] or
  /// given per member [M, B, D...].
  virtual at::Tensor forward(const at::Tensor& inputs) = 0;
  virtual int64_t members() const = 0;
  virtual int64_t num_classes() const = 0;
  /// Number of trainable scalars over all members.
  int64_t parameter_count() const;
  /// The part of parameters()[parameter_index] that belongs to `member` (a
  /// view), or an undefined tensor if none does. `parameter` may be that
  /// parameter or a copy of it. Default: members stacked along dimension 0.
  virtual at::Tensor member_part(size_t parameter_index, const at::Tensor& parameter, int64_t member) const;
  /// Seeds of the random draws in the next training forward pass (dropout),
  /// one per member: endd's trainers derive them from the member's seed, the
  /// epoch and the step, so training is the same in every process, resumed
  /// or not, whichever members share the graph. Networks that draw nothing
  /// ignore them.
  virtual void set_noise_seeds(const std::vector<uint64_t>& seeds) {}
};

}  // namespace endd::models
