#include "endd/models/regression_heads.h"

#include <ATen/ATen.h>

#include "endd/core/error.h"

namespace endd::models {

GaussianHead gaussian_head(const at::Tensor& z) {
  ENDD_CHECK(z.size(-1) == 2, "a Gaussian head takes 2 outputs (mean, variance), got ", z.size(-1));
  return {z.select(-1, 0), at::softplus(z.select(-1, 1)) + kMinVariance};
}

NormalGammaHead normal_gamma_head(const at::Tensor& z) {
  ENDD_CHECK(z.size(-1) == 4, "a Normal-Gamma head takes 4 outputs (m, kappa, alpha, beta), got ", z.size(-1));
  return {z.select(-1, 0), at::softplus(z.select(-1, 1)) + kNormalGammaFloor,
          1.0 + at::softplus(z.select(-1, 2)) + kMinAlphaExcess, at::softplus(z.select(-1, 3)) + kNormalGammaFloor};
}

}  // namespace endd::models
