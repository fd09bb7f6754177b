#pragma once
// How a network's raw outputs become the parameters of a regression
// predictive (MATH.md section 6). Positivity with floors, so that gradients
// stay finite wherever the raw outputs go.
#include <ATen/core/Tensor.h>

#include <optional>
#include <string>

namespace endd::models {

/// Smallest variance a Gaussian head predicts (in standardised target units).
inline constexpr double kMinVariance = 1e-6;
/// Floors of the Normal-Gamma head: kappa, beta > kNormalGammaFloor, and
/// alpha > 1 + kMinAlphaExcess. Far from the data, members' precisions
/// differ so much that the likelihood wants alpha near or below 1, where the
/// knowledge variance beta / (kappa (alpha - 1)) grows as 1 / (alpha - 1):
/// with alpha > 2 the regression toy's far knowledge came within 1.5x of
/// the ensemble's on 2 of 3 seeds where alpha > 1.1 managed 1 (one build;
/// the figure moves with rounding), and the tables' NLL stayed the same
/// (docs/regression.md).
inline constexpr double kNormalGammaFloor = 1e-4;
inline constexpr double kMinAlphaExcess = 1.0;

/// A Gaussian member: z[..., 0] is the mean, softplus(z[..., 1]) + kMinVariance the variance.
struct GaussianHead {
  at::Tensor mean, variance;
};
GaussianHead gaussian_head(const at::Tensor& z);

/// How a Normal-Gamma head makes kappa, alpha - 1 - kMinAlphaExcess and beta
/// positive (run.json "normal_gamma_link"). kExp: exp of the raw output
/// clamped to +-kMaxLogParameter. Where the members agree, kappa is in the
/// hundreds (knowledge variance = data variance / kappa); through softplus a
/// raw output grows to it linearly, which a short run never reached: a user's
/// 400-row table, 60 epochs, gave 50x the ensemble's knowledge variance on
/// held-out inputs, 4x after 600 (docs/regression.md). kSoftplus: students
/// distilled before that (read from their run.json).
enum class PositiveLink { kSoftplus, kExp };
inline constexpr double kMaxLogParameter = 20.0;
const char* positive_link_name(PositiveLink link);
std::optional<PositiveLink> parse_positive_link(const std::string& name);

/// A Normal-Gamma prior network from 4 outputs: m = z0, kappa = f(z1),
/// alpha = 1 + kMinAlphaExcess + f(z2), beta = f(z3), f the link (kappa and
/// beta with kNormalGammaFloor added).
struct NormalGammaHead {
  at::Tensor m, kappa, alpha, beta;
};
NormalGammaHead normal_gamma_head(const at::Tensor& z, PositiveLink link = PositiveLink::kExp);

}  // namespace endd::models
