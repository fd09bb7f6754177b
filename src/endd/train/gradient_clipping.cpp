#include "endd/train/gradient_clipping.h"

#include <ATen/ATen.h>

#include <cmath>

namespace endd::train {
namespace {

// One flat float32 gradient on the CPU (a student's, FlatAdam::gradient()):
// the norm in one pass with 8 partial sums in double, and the scale applied
// only where it is below 1; a step's 5 ATen operations cost more than the
// arithmetic on a small network.
at::Tensor clip_flat_cpu_(const at::Tensor& g, double max_norm) {
  float* x = g.data_ptr<float>();
  const int64_t n = g.numel();
  double partial[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    for (int k = 0; k < 8; ++k) partial[k] += double(x[i + k]) * double(x[i + k]);
  for (; i < n; ++i) partial[0] += double(x[i]) * double(x[i]);
  const double total = std::sqrt(((partial[0] + partial[1]) + (partial[2] + partial[3])) +
                                 ((partial[4] + partial[5]) + (partial[6] + partial[7])));
  const double scale = max_norm / (total + 1e-6);
  if (!(scale >= 1.0)) {  // also a non-finite norm: every gradient non-finite, as in PyTorch
    const float s = static_cast<float>(scale);
    for (int64_t j = 0; j < n; ++j) x[j] *= s;
  }
  return at::scalar_tensor(total, g.options().dtype(at::kFloat));
}

}  // namespace

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
  if (grads.size() == 1 && grads[0].is_cpu() && grads[0].scalar_type() == at::kFloat && grads[0].is_contiguous())
    return clip_flat_cpu_(grads[0], max_norm);
  // One fused kernel on CUDA (a loop of norms on the CPU).
  std::vector<at::Tensor> norms = at::_foreach_norm(grads, 2);
  at::Tensor total = norms.size() == 1 ? norms.front() : at::linalg_vector_norm(at::stack(norms), 2);
  at::Tensor scale = at::clamp_max(max_norm / (total + 1e-6), 1.0);
  for (const auto& g : grads) g.mul_(scale);
  return total;
}

}  // namespace endd::train
