#pragma once
// How a network's raw outputs become the parameters of a regression
// predictive (MATH.md section 6). Positivity through softplus with floors, so
// that gradients stay finite wherever the raw outputs go.
#include <ATen/core/Tensor.h>

namespace endd::models {

/// Smallest variance a Gaussian head predicts (in standardised target units).
inline constexpr double kMinVariance = 1e-6;
/// Floors of the Normal-Gamma head: kappa, beta > kNormalGammaFloor, and
/// alpha > 1 + kMinAlphaExcess.
inline constexpr double kNormalGammaFloor = 1e-4;
inline constexpr double kMinAlphaExcess = 0.1;

/// A Gaussian member: z[..., 0] is the mean, softplus(z[..., 1]) + kMinVariance the variance.
struct GaussianHead {
  at::Tensor mean, variance;
};
GaussianHead gaussian_head(const at::Tensor& z);

/// A Normal-Gamma prior network from 4 outputs: m = z0, kappa = softplus(z1),
/// alpha = 1 + softplus(z2), beta = softplus(z3) (each with its floor).
struct NormalGammaHead {
  at::Tensor m, kappa, alpha, beta;
};
NormalGammaHead normal_gamma_head(const at::Tensor& z);

}  // namespace endd::models
