#pragma once
// Losses for regression ensembles and their distillation (MATH.md section 6),
// batch means of per-input terms, differentiable by autograd (float64 where
// the inputs are):
//   members:  Gaussian NLL of (mean, variance) heads;
//   EnD:      a Gaussian student against the members' Gaussians (mean KL,
//             minimised by moment matching: the mixture's mean and variance);
//   EnD^2:    a Normal-Gamma student by the members' likelihood.
#include <ATen/core/Tensor.h>

namespace endd::distill {

/// mean_i 0.5 [ln(2 pi var_i) + (y_i - mean_i)^2 / var_i]; all [B].
at::Tensor gaussian_nll(const at::Tensor& mean, const at::Tensor& variance, const at::Tensor& y);

/// mean_i (1/M) sum_m KL(N(mu_im, s2_im) || N(mean_i, var_i)); mean, variance
/// [B]; member_means, member_variances [B, M].
at::Tensor gaussian_end_loss(const at::Tensor& mean, const at::Tensor& variance, const at::Tensor& member_means,
                             const at::Tensor& member_variances);

/// mean_i -(1/M) sum_m ln NG(mu_im, tau_im | m_i, kappa_i, alpha_i, beta_i)
/// (shape-rate), from the members' sufficient statistics: the means over m
/// of tau, ln tau, tau mu and tau mu^2. m, kappa, alpha, beta [B]; members'
/// means and precisions tau = 1 / s2 [B, M].
at::Tensor normal_gamma_nll(const at::Tensor& m, const at::Tensor& kappa, const at::Tensor& alpha,
                            const at::Tensor& beta, const at::Tensor& member_means,
                            const at::Tensor& member_precisions);

/// The Normal-Gamma fitted by moments where the likelihood couples them:
/// mean_i { -(1/M) sum_m ln Gamma(tau_im | alpha_i, beta_i) (shape-rate)
///          + 0.5 [ln(2 pi v_i) + (S_i + (mubar_i - m_i)^2) / v_i] },
/// v = beta / (kappa (alpha - 1)) the Normal-Gamma's variance of mu, mubar and
/// S the members' mean and (population) variance of mu. Its optimum puts the
/// student's knowledge variance at the members' S exactly; the joint
/// likelihood's puts it at S E[tau] E[1/tau] and more where the members'
/// precisions differ (docs/regression.md). Same arguments as normal_gamma_nll;
/// alpha > 1.
at::Tensor normal_gamma_moment_loss(const at::Tensor& m, const at::Tensor& kappa, const at::Tensor& alpha,
                                    const at::Tensor& beta, const at::Tensor& member_means,
                                    const at::Tensor& member_precisions);

}  // namespace endd::distill
