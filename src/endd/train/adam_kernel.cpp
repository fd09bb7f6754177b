// Compiled with -fno-math-errno (CMakeLists.txt): std::sqrt that need not set
// errno is what lets the loop vectorise.
#include "endd/train/adam_kernel.h"

#include <cmath>

namespace endd::train {

void adam_pass(float* __restrict param, const float* __restrict grad, float* __restrict exp_avg,
               float* __restrict exp_avg_sq, int64_t n, const AdamStepConstants& c) {
  const float beta1 = c.beta1, beta2 = c.beta2, decay = c.weight_decay, inv_sqrt_bias2 = c.inv_sqrt_bias2,
              eps = c.eps, step_size = c.step_size;
  const float one_minus_beta1 = 1 - beta1, one_minus_beta2 = 1 - beta2;
  for (int64_t i = 0; i < n; ++i) {
    const float g = grad[i] + decay * param[i];
    const float m = exp_avg[i] * beta1 + one_minus_beta1 * g;
    const float v = exp_avg_sq[i] * beta2 + one_minus_beta2 * (g * g);
    exp_avg[i] = m;
    exp_avg_sq[i] = v;
    param[i] -= step_size * (m / (std::sqrt(v) * inv_sqrt_bias2 + eps));
  }
}

}  // namespace endd::train
