#include "endd/train/gradient_clipping.h"

#include <ATen/ATen.h>

namespace endd::train {

at::Tensor clip_gradient_norm_(const std::vector<at::Tensor>& parameters, double max_norm) {
  at::NoGradGuard no_grad;
  std::vector<at::Tensor> grads;
  for (const auto& p : parameters)
    if (p.grad().defined()) grads.push_back(p.grad());
  return clip_gradients_(grads, max_norm);
}

at::Tensor clip_gradients_(const std::vector<at::Tensor>& grads, double max_norm) {
  at::NoGradGuard no_grad;
  if (grads.empty()) return at::Tensor();
  // One fused kernel on CUDA (a loop of norms on the CPU).
  std::vector<at::Tensor> norms = at::_foreach_norm(grads, 2);
  at::Tensor total = norms.size() == 1 ? norms.front() : at::linalg_vector_norm(at::stack(norms), 2);
  at::Tensor scale = at::clamp_max(max_norm / (total + 1e-6), 1.0);
  for (const auto& g : grads) g.mul_(scale);
  return total;
}

}  // namespace endd::train
