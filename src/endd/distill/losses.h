#pragma once
// Distillation losses, MATH.md section 3. Shapes: student logits z [B, K];
// teacher member logits [B, M, K] (cached once, see teacher_cache.h).
#include <ATen/core/Tensor.h>

namespace endd::distill {

/// EnD: T^2 * mean_i CE(pbar(T), softmax(z / T)). `target_mean_probs` from
/// teacher_mean_probs() (teacher_statistics.h): each row sums to 1, or is all
/// zeros and adds nothing (an input left out of the term). The loss is
/// computed in the student's dtype unless `float64` is set.
at::Tensor end_loss(const at::Tensor& student_logits, const at::Tensor& target_mean_probs,
                    double temperature, bool float64 = false);

/// EnD^2: Dirichlet negative log-likelihood of the (smoothed) members with
/// alpha = exp(z / T), averaged over members and inputs, times T^2:
/// sum_c lnG(alpha_c) - lnG(alpha_0) - sum_c (alpha_c - 1) * mean_log_probs_c,
/// with `mean_log_probs` from teacher_mean_log_probs() (teacher_statistics.h).
at::Tensor end2_loss(const at::Tensor& student_logits, const at::Tensor& mean_log_probs,
                     double temperature, bool float64 = false);

/// EnD^2 with a Proxy-Dirichlet target (Ryabinin, Malinin, Gales 2021):
/// T^2 * mean_i KL(Dir(alpha) || Dir(beta)), alpha = exp(z / T), the reverse
/// KL from the student to `proxy_concentrations` beta [B, K] from
/// teacher_proxy_dirichlet() (teacher_statistics.h).
at::Tensor end2_proxy_loss(const at::Tensor& student_logits, const at::Tensor& proxy_concentrations,
                           double temperature, bool float64 = false);

/// A loss and its gradient in the student's logits, computed together
/// outside autograd (the taped step of train/distiller.cpp): `loss` a scalar
/// in the loss's dtype, `gradient` [B, K] in the logits' dtype. Same values as
/// the functions above and their autograd gradients.
struct LossAndGradient {
  at::Tensor loss, gradient;
};
LossAndGradient end_loss_and_gradient(const at::Tensor& student_logits, const at::Tensor& target_mean_probs,
                                      double temperature, bool float64 = false);
LossAndGradient end2_loss_and_gradient(const at::Tensor& student_logits, const at::Tensor& mean_log_probs,
                                       double temperature, bool float64 = false);
LossAndGradient end2_proxy_loss_and_gradient(const at::Tensor& student_logits,
                                             const at::Tensor& proxy_concentrations, double temperature,
                                             bool float64 = false);

}  // namespace endd::distill
