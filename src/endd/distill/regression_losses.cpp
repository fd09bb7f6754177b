#include "endd/distill/regression_losses.h"

#include <ATen/ATen.h>

#include <cmath>

#include "endd/core/error.h"

namespace endd::distill {
namespace {

// Student parameters [B] each and the members' means and precisions [B, M].
void check_normal_gamma(const char* loss, const at::Tensor& m, const at::Tensor& kappa, const at::Tensor& alpha,
                        const at::Tensor& beta, const at::Tensor& member_means, const at::Tensor& member_precisions) {
  ENDD_CHECK(member_means.dim() == 2 && member_precisions.sizes() == member_means.sizes() && m.dim() == 1 &&
                 m.size(0) == member_means.size(0) && kappa.sizes() == m.sizes() && alpha.sizes() == m.sizes() &&
                 beta.sizes() == m.sizes(),
             loss, ": expected parameters [B] and members [B, M], got ", m.sizes(), " and ", member_means.sizes());
}

}  // namespace

at::Tensor gaussian_nll(const at::Tensor& mean, const at::Tensor& variance, const at::Tensor& y) {
  ENDD_CHECK(mean.sizes() == variance.sizes() && mean.sizes() == y.sizes(), "Gaussian NLL: mean ", mean.sizes(),
             ", variance ", variance.sizes(), " and targets ", y.sizes(), " differ");
  return (0.5 * (at::log(2 * M_PI * variance) + (y - mean).pow(2) / variance)).mean();
}

at::Tensor gaussian_end_loss(const at::Tensor& mean, const at::Tensor& variance, const at::Tensor& member_means,
                             const at::Tensor& member_variances) {
  ENDD_CHECK(member_means.dim() == 2 && member_variances.sizes() == member_means.sizes() &&
                 mean.dim() == 1 && mean.size(0) == member_means.size(0) && variance.sizes() == mean.sizes(),
             "Gaussian EnD loss: expected student [B] and members [B, M], got ", mean.sizes(), " and ",
             member_means.sizes());
  at::Tensor v = variance.unsqueeze(1);
  at::Tensor kl = 0.5 * (at::log(v / member_variances) + (member_variances + (member_means - mean.unsqueeze(1)).pow(2)) / v - 1);
  return kl.mean(1).mean();
}

at::Tensor normal_gamma_nll(const at::Tensor& m, const at::Tensor& kappa, const at::Tensor& alpha,
                            const at::Tensor& beta, const at::Tensor& member_means,
                            const at::Tensor& member_precisions) {
  check_normal_gamma("Normal-Gamma NLL", m, kappa, alpha, beta, member_means, member_precisions);
  const at::Tensor& tau = member_precisions;
  at::Tensor e_tau = tau.mean(1), e_log_tau = at::log(tau).mean(1);
  at::Tensor e_tau_mu = (tau * member_means).mean(1), e_tau_mu2 = (tau * member_means.pow(2)).mean(1);
  // E_m[tau (mu - m)^2] = E[tau mu^2] - 2 m E[tau mu] + m^2 E[tau].
  at::Tensor spread = e_tau_mu2 - 2 * m * e_tau_mu + m.pow(2) * e_tau;
  at::Tensor log_ng = 0.5 * at::log(kappa) - 0.5 * std::log(2 * M_PI) + (alpha - 0.5) * e_log_tau - 0.5 * kappa * spread +
                      alpha * at::log(beta) - at::lgamma(alpha) - beta * e_tau;
  return -log_ng.mean();
}

at::Tensor normal_gamma_moment_loss(const at::Tensor& m, const at::Tensor& kappa, const at::Tensor& alpha,
                                    const at::Tensor& beta, const at::Tensor& member_means,
                                    const at::Tensor& member_precisions) {
  check_normal_gamma("Normal-Gamma moment loss", m, kappa, alpha, beta, member_means, member_precisions);
  const at::Tensor& tau = member_precisions;
  at::Tensor log_gamma = alpha * at::log(beta) - at::lgamma(alpha) + (alpha - 1) * at::log(tau).mean(1) -
                         beta * tau.mean(1);
  at::Tensor mean_mu = member_means.mean(1);
  at::Tensor spread = (member_means - mean_mu.unsqueeze(1)).pow(2).mean(1);  // S
  at::Tensor v = beta / (kappa * (alpha - 1));
  at::Tensor mu_fit = 0.5 * (at::log(2 * M_PI * v) + (spread + (mean_mu - m).pow(2)) / v);
  return (mu_fit - log_gamma).mean();
}

}  // namespace endd::distill
