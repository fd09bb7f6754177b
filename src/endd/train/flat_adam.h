#pragma once
// Adam over one contiguous buffer. A student's step is dominated by the cost
// of each tensor operation, not by arithmetic: torch::optim::Adam spends
// about 10 operations per parameter tensor; FlatAdam one loop over the buffer
// on the CPU (adam_kernel.h), 7 operations over it elsewhere.
#include <torch/optim/adam.h>

#include <vector>

namespace endd::train {

/// torch::optim::Adam (one parameter group, no amsgrad) whose parameters,
/// gradients and moments each live in one flat buffer. The parameters keep
/// their tensors and shapes (now views of the buffer), so modules, hooks and
/// checkpoints see them as before; the per-parameter state is kept as views
/// of the flat moments, so a checkpoint is that of torch::optim::Adam and
/// either loads the other's.
///
/// Call this class's zero_grad() (it zeroes the flat gradient in place):
/// LibTorch 2.x's Optimizer::zero_grad drops the gradients instead, which
/// would unbind them from the buffer.
class FlatAdam : public torch::optim::Adam {
 public:
  FlatAdam(const std::vector<at::Tensor>& parameters, torch::optim::AdamOptions options);

  at::Tensor step(LossClosure closure = nullptr) override;
  void load(torch::serialize::InputArchive& archive) override;
  void zero_grad();

  /// Every parameter's gradient, flat: clip it or all-reduce it as one tensor.
  at::Tensor& gradient() { return grad_; }

  /// Every parameter's state as views of the flat moments (copying in state
  /// that load() read or that a caller put in state()), and the common step
  /// count. Call it after replacing state() entries, before the next step.
  void bind_state();

 private:

  at::Tensor param_, grad_, exp_avg_, exp_avg_sq_;
  std::vector<int64_t> offsets_;  ///< parameter i is [offsets_[i], offsets_[i + 1]) of the buffers
  std::vector<torch::optim::AdamParamState*> states_;  ///< parameter i's, in state_
  int64_t step_ = 0;
};

}  // namespace endd::train
