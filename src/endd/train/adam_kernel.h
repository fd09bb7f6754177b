#pragma once
// One pass of Adam's update over flat float32 buffers on the CPU. A
// student's step is dominated by per-operation overhead: torch::optim::Adam's
// operations, even over one flat buffer (FlatAdam), are 7 passes and 7
// dispatches; this is one loop the compiler vectorises (issue 21).
#include <cstdint>

namespace endd::train {

struct AdamStepConstants {
  float beta1 = 0.9f, beta2 = 0.999f;
  float weight_decay = 0;   ///< L2 added to the gradient, as torch::optim::Adam
  float inv_sqrt_bias2 = 1; ///< 1 / sqrt(1 - beta2^t)
  float eps = 1e-8f;
  float step_size = 0;      ///< lr / (1 - beta1^t)
};

/// For i < n, with g = grad[i] + weight_decay * param[i]:
/// m = beta1 m + (1 - beta1) g, v = beta2 v + (1 - beta2) g^2,
/// param -= step_size m / (sqrt(v) inv_sqrt_bias2 + eps): torch::optim::Adam's
/// arithmetic, rounded per element in its own order (results agree with it
/// to float32 rounding, not bit for bit).
void adam_pass(float* param, const float* grad, float* exp_avg, float* exp_avg_sq, int64_t n,
               const AdamStepConstants& c);

}  // namespace endd::train
