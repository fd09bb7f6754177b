#pragma once
// What the distillation losses need from the teacher's cached member logits
// [B, M, K] at temperature T: the mean probabilities (EnD) and the mean log
// probabilities (EnD^2), both [B, K] in float64. A student recomputes them for
// every value of T over its whole transfer set, so on the CPU they run as one
// fused pass over the logits.
#include <ATen/core/Tensor.h>

namespace endd::distill {

/// pbar(T) = mean_m softmax(z_m / T).
at::Tensor teacher_mean_probs(const at::Tensor& teacher_logits, double temperature);

/// The EnD^2 sufficient statistic (1/M) sum_m ln pi_mc(T), with each member's
/// pi smoothed towards the centre, pi <- (1 - eps) pi + eps / K. Computed in
/// float64 from the logits, so members that agree to float32 precision but
/// not exactly still give distinct statistics, and tiny probabilities meet
/// the floor eps / K exactly.
at::Tensor teacher_mean_log_probs(const at::Tensor& teacher_logits, double temperature, double smoothing);

/// The Proxy-Dirichlet target (MATH.md section 3) from the smoothed members:
/// mean pbar, MKL = sum_c pbar_c (ln pbar_c - mean_log_probs_c), precision
/// beta_0 = (K - 1) / (2 MKL) capped at `max_precision` (members that agree
/// exactly have MKL = 0), beta = pbar * beta_0 + offset. [B, K], float64.
at::Tensor teacher_proxy_dirichlet(const at::Tensor& teacher_logits, double temperature, double smoothing,
                                   double offset, double max_precision);

}  // namespace endd::distill
