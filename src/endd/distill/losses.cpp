#include "endd/distill/losses.h"

#include <ATen/ATen.h>
#include <torch/csrc/autograd/custom_function.h>

#include <cmath>

#include "endd/core/error.h"
#include "endd/uncertainty/measures.h"

namespace endd::distill {
namespace {
void check_pair(const at::Tensor& student, const at::Tensor& target) {
  ENDD_CHECK(student.dim() == 2 && student.sizes() == target.sizes(), "student logits ", student.sizes(),
             " and teacher targets ", target.sizes(), " must both be [B, K]");
}

// The EnD^2 loss as one autograd node: its gradient has a closed form
// (MATH.md section 3), so the forward pass computes it alongside the loss and
// the backward pass only scales it. A student's step is dominated by
// per-operation overhead, and this replaces about thirty recorded operations.
struct End2Nll : torch::autograd::Function<End2Nll> {
  static at::Tensor forward(torch::autograd::AutogradContext* ctx, const at::Tensor& logits,
                            const at::Tensor& mean_log_probs, double temperature, bool float64) {
    auto dtype = float64 ? at::kDouble : logits.scalar_type();
    at::Tensor stat = mean_log_probs.to(dtype);
    // Where the members agree (closely at a high T) the likelihood has no
    // finite optimum and z / T climbs; once T falls, exp(z / T) can leave
    // float64. The exponent is bounded as the measures bound it, and the
    // gradient (which keeps its direction) so that it fits the logits' float32:
    // clipping and Adam use only its direction. Neither bound acts on a
    // well-posed student (|z / T| < 300, gradients far below 1e8).
    const double bound = float64 ? uncertainty::kMaxDirichletLogit : 80.0;
    at::Tensor alpha = (logits.to(dtype) / temperature).clamp(-bound, bound).exp();
    at::Tensor alpha0 = alpha.sum(-1);
    at::Tensor nll = at::lgamma(alpha).sum(-1) - at::lgamma(alpha0) - ((alpha - 1.0) * stat).sum(-1);
    const double B = double(logits.size(0));
    // d/dz_c of T^2 * mean(nll) = (T / B) alpha_c [psi(alpha_c) - psi(alpha_0) - stat_c].
    at::Tensor grad = (alpha * (at::digamma(alpha) - at::digamma(alpha0).unsqueeze(-1) - stat)).clamp(-1e8, 1e8) *
                      (temperature / B);
    ctx->save_for_backward({grad.to(logits.scalar_type())});
    return nll.mean() * (temperature * temperature);
  }
  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grad_output) {
    at::Tensor grad = ctx->get_saved_variables()[0] * grad_output[0];
    return {grad, at::Tensor(), at::Tensor(), at::Tensor()};  // the teacher statistic gets no gradient
  }
};

// KL(Dir(alpha) || Dir(beta)) =
//   lnG(a0) - sum lnG(a_c) - lnG(b0) + sum lnG(b_c) + sum (a_c - b_c)(psi(a_c) - psi(a0)),
// whose derivative in a_c is (a_c - b_c) psi'(a_c) - (a0 - b0) psi'(a0); one
// node for the same reason as End2Nll.
struct ProxyDirichletKl : torch::autograd::Function<ProxyDirichletKl> {
  static at::Tensor forward(torch::autograd::AutogradContext* ctx, const at::Tensor& logits,
                            const at::Tensor& beta_in, double temperature, bool float64) {
    auto dtype = float64 ? at::kDouble : logits.scalar_type();
    at::Tensor beta = beta_in.to(dtype);
    // Kept above zero: a concentration that underflows would make psi'(0) * 0 = NaN.
    at::Tensor alpha = (logits.to(dtype) / temperature).exp().clamp_min(float64 ? 1e-300 : 1e-37);
    at::Tensor alpha0 = alpha.sum(-1), beta0 = beta.sum(-1);
    at::Tensor digamma_gap = at::digamma(alpha) - at::digamma(alpha0).unsqueeze(-1);
    at::Tensor kl = at::lgamma(alpha0) - at::lgamma(alpha).sum(-1) - at::lgamma(beta0) + at::lgamma(beta).sum(-1) +
                    ((alpha - beta) * digamma_gap).sum(-1);
    const double B = double(logits.size(0));
    at::Tensor d_alpha = (alpha - beta) * at::polygamma(1, alpha) -
                         ((alpha0 - beta0) * at::polygamma(1, alpha0)).unsqueeze(-1);
    // Unlike the likelihood's, this gradient is unbounded: about -beta_c / alpha_c
    // where alpha_c << beta_c and alpha_c - beta_c where alpha_c >> beta_c, e.g.
    // when T falls and exp(z / T) moves by orders of magnitude. Bounded far
    // above its values near the target (|alpha - beta| <= the precision cap)
    // so it stays finite in float32; clipping and Adam only use its direction.
    at::Tensor grad = (alpha * d_alpha).clamp(-1e8, 1e8) * (temperature / B);
    ctx->save_for_backward({grad.to(logits.scalar_type())});
    return kl.mean() * (temperature * temperature);
  }
  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grad_output) {
    at::Tensor grad = ctx->get_saved_variables()[0] * grad_output[0];
    return {grad, at::Tensor(), at::Tensor(), at::Tensor()};
  }
};

}  // namespace

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
  return End2Nll::apply(student_logits, mean_log_probs, temperature, float64);
}

at::Tensor end2_proxy_loss(const at::Tensor& student_logits, const at::Tensor& proxy_concentrations,
                           double temperature, bool float64) {
  check_pair(student_logits, proxy_concentrations);
  return ProxyDirichletKl::apply(student_logits, proxy_concentrations, temperature, float64);
}

}  // namespace endd::distill
