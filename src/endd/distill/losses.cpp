#include "endd/distill/losses.h"

#include <ATen/ATen.h>

#include <cmath>

#include "endd/core/error.h"

namespace endd::distill {
namespace {
void check_teacher(const at::Tensor& t, double temperature) {
  ENDD_CHECK(t.dim() == 3, "teacher logits must be [B, M, K], got ", t.sizes());
  ENDD_CHECK(temperature >= 1.0 && std::isfinite(temperature), "temperature must be >= 1, got ", temperature);
}
void check_pair(const at::Tensor& student, const at::Tensor& target) {
  ENDD_CHECK(student.dim() == 2 && student.sizes() == target.sizes(), "student logits ", student.sizes(),
             " and teacher targets ", target.sizes(), " must both be [B, K]");
}
}  // namespace

at::Tensor teacher_mean_probs(const at::Tensor& teacher_logits, double temperature) {
  check_teacher(teacher_logits, temperature);
  return at::softmax(teacher_logits.to(at::kDouble) / temperature, -1).mean(1);
}

at::Tensor teacher_mean_log_probs(const at::Tensor& teacher_logits, double temperature, double smoothing) {
  check_teacher(teacher_logits, temperature);
  ENDD_CHECK(smoothing >= 0 && smoothing < 1, "smoothing must lie in [0, 1), got ", smoothing);
  const int64_t K = teacher_logits.size(2);
  at::Tensor log_p = at::log_softmax(teacher_logits.to(at::kDouble) / temperature, -1);
  if (smoothing > 0) {
    // ln((1 - eps) p + eps / K) = logaddexp(ln(1 - eps) + ln p, ln(eps / K)), exact for tiny p.
    log_p = at::logaddexp(log_p + std::log1p(-smoothing),
                          at::full_like(log_p, std::log(smoothing / double(K))));
  }
  return log_p.mean(1);
}

at::Tensor end_loss(const at::Tensor& student_logits, const at::Tensor& target_mean_probs,
                    double temperature, bool float64) {
  check_pair(student_logits, target_mean_probs);
  auto dtype = float64 ? at::kDouble : student_logits.scalar_type();
  at::Tensor log_q = at::log_softmax(student_logits.to(dtype) / temperature, -1);
  at::Tensor ce = -(target_mean_probs.to(dtype) * log_q).sum(-1);
  return ce.mean() * (temperature * temperature);
}

at::Tensor end2_loss(const at::Tensor& student_logits, const at::Tensor& mean_log_probs,
                     double temperature, bool float64) {
  check_pair(student_logits, mean_log_probs);
  auto dtype = float64 ? at::kDouble : student_logits.scalar_type();
  at::Tensor log_alpha = student_logits.to(dtype) / temperature;
  at::Tensor alpha = log_alpha.exp();
  at::Tensor alpha0 = alpha.sum(-1);
  at::Tensor nll = at::lgamma(alpha).sum(-1) - at::lgamma(alpha0) -
                   ((alpha - 1.0) * mean_log_probs.to(dtype)).sum(-1);
  return nll.mean() * (temperature * temperature);
}

}  // namespace endd::distill
