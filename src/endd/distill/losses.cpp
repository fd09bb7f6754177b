#include "endd/distill/losses.h"

#include <ATen/ATen.h>
#include <ATen/native/Math.h>
#include <torch/csrc/autograd/custom_function.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "endd/core/error.h"
#include "endd/uncertainty/measures.h"

namespace endd::distill {
namespace {
void check_pair(const at::Tensor& student, const at::Tensor& target) {
  ENDD_CHECK(student.dim() == 2 && student.sizes() == target.sizes(), "student logits ", student.sizes(),
             " and teacher targets ", target.sizes(), " must both be [B, K]");
}

// Each row of `logits` and `target` as float64 [K] arrays, through `row(z, t, g)`
// which returns the row's loss and writes its gradient to g; the mean loss
// and the gradients (in the logits' dtype). A student's batch is small
// ([128, 3] on the spiral), so a loop over rows beats the two dozen tensor
// operations of the general formulas, whose cost is per operation.
template <typename Row>
LossAndGradient per_row_on_cpu(const at::Tensor& logits, const at::Tensor& target, Row row) {
  at::Tensor z = logits.to(at::kDouble).contiguous(), t = target.to(at::kDouble).contiguous();
  const int64_t B = z.size(0), K = z.size(1);
  at::Tensor grad = at::empty({B, K}, z.options());
  const double *zp = z.data_ptr<double>(), *tp = t.data_ptr<double>();
  double* gp = grad.data_ptr<double>();
  double total = 0;
  for (int64_t i = 0; i < B; ++i) total += row(zp + i * K, tp + i * K, gp + i * K);
  return {at::scalar_tensor(total / double(B), z.options()), grad.to(logits.scalar_type())};
}

// ln Gamma(x) without glibc's lgamma writing the global signgam (students
// train in parallel lanes).
double log_gamma(double x) {
  int sign = 0;
  return lgamma_r(x, &sign);
}

// The EnD^2 likelihood and its closed-form gradient (MATH.md section 3).
LossAndGradient end2_nll(const at::Tensor& logits, const at::Tensor& mean_log_probs, double temperature,
                         bool float64) {
  if (float64 && logits.device().is_cpu()) {  // the formulas below, row by row
    const double B = double(logits.size(0)), T = temperature, bound = uncertainty::kMaxDirichletLogit;
    const int64_t K = logits.size(1);
    std::vector<double> alpha(static_cast<size_t>(K));
    return per_row_on_cpu(logits, mean_log_probs, [&](const double* z, const double* stat, double* g) {
      double alpha0 = 0, nll = 0;
      for (int64_t c = 0; c < K; ++c) {
        alpha[c] = std::exp(std::clamp(z[c] / T, -bound, bound));
        alpha0 += alpha[c];
        nll += log_gamma(alpha[c]) - (alpha[c] - 1.0) * stat[c];
      }
      const double psi0 = calc_digamma(alpha0);
      for (int64_t c = 0; c < K; ++c)
        g[c] = std::clamp(alpha[c] * (calc_digamma(alpha[c]) - psi0 - stat[c]), -1e8, 1e8) * (T / B);
      return (nll - log_gamma(alpha0)) * (T * T);
    });
  }
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
  return {nll.mean() * (temperature * temperature), grad.to(logits.scalar_type())};
}

// KL(Dir(alpha) || Dir(beta)) =
//   lnG(a0) - sum lnG(a_c) - lnG(b0) + sum lnG(b_c) + sum (a_c - b_c)(psi(a_c) - psi(a0)),
// whose derivative in a_c is (a_c - b_c) psi'(a_c) - (a0 - b0) psi'(a0).
LossAndGradient proxy_dirichlet_kl(const at::Tensor& logits, const at::Tensor& beta_in, double temperature,
                                   bool float64) {
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
  return {kl.mean() * (temperature * temperature), grad.to(logits.scalar_type())};
}

// Either loss as one autograd node: the forward pass computes its gradient
// alongside the loss and the backward pass only scales it. A student's step
// is dominated by per-operation overhead, and this replaces about thirty
// recorded operations.
template <LossAndGradient (*kLoss)(const at::Tensor&, const at::Tensor&, double, bool)>
struct ClosedFormGradient : torch::autograd::Function<ClosedFormGradient<kLoss>> {
  static at::Tensor forward(torch::autograd::AutogradContext* ctx, const at::Tensor& logits,
                            const at::Tensor& target, double temperature, bool float64) {
    LossAndGradient r = kLoss(logits, target, temperature, float64);
    ctx->save_for_backward({r.gradient});
    return r.loss;
  }
  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grad_output) {
    at::Tensor grad = ctx->get_saved_variables()[0] * grad_output[0];
    return {grad, at::Tensor(), at::Tensor(), at::Tensor()};  // the teacher's targets get no gradient
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
  return ClosedFormGradient<end2_nll>::apply(student_logits, mean_log_probs, temperature, float64);
}

at::Tensor end2_proxy_loss(const at::Tensor& student_logits, const at::Tensor& proxy_concentrations,
                           double temperature, bool float64) {
  check_pair(student_logits, proxy_concentrations);
  return ClosedFormGradient<proxy_dirichlet_kl>::apply(student_logits, proxy_concentrations, temperature, float64);
}

LossAndGradient end_loss_and_gradient(const at::Tensor& student_logits, const at::Tensor& target_mean_probs,
                                      double temperature, bool float64) {
  check_pair(student_logits, target_mean_probs);
  at::NoGradGuard no_grad;
  if (float64 && student_logits.device().is_cpu()) {  // the formulas below, row by row
    const double B = double(student_logits.size(0)), T = temperature;
    const int64_t K = student_logits.size(1);
    return per_row_on_cpu(student_logits, target_mean_probs, [&](const double* z, const double* p, double* g) {
      double top = z[0] / T;
      for (int64_t c = 1; c < K; ++c) top = std::max(top, z[c] / T);
      double norm = 0;
      for (int64_t c = 0; c < K; ++c) norm += std::exp(z[c] / T - top);
      const double log_norm = top + std::log(norm);
      // A row of zeros (an input left out) has no gradient.
      bool left_out = true;
      for (int64_t c = 0; c < K; ++c) left_out = left_out && p[c] == 0;
      double ce = 0;
      for (int64_t c = 0; c < K; ++c) {
        const double log_q = z[c] / T - log_norm;
        ce -= p[c] * log_q;
        g[c] = ((left_out ? 0.0 : std::exp(log_q)) - p[c]) * (T / B);
      }
      return ce * (T * T);
    });
  }
  auto dtype = float64 ? at::kDouble : student_logits.scalar_type();
  at::Tensor p = target_mean_probs.to(dtype);
  at::Tensor log_q = at::log_softmax(student_logits.to(dtype) / temperature, -1);
  at::Tensor loss = -(p * log_q).sum(-1).mean() * (temperature * temperature);
  // d/dz of T^2 * mean_i CE(p, softmax(z / T)) = (T / B) (softmax(z / T) - p)
  // for targets that sum to 1; 0 for a row of zeros (an input left out).
  at::Tensor kept = (p != 0).any(-1, true).to(dtype);
  at::Tensor grad = (log_q.exp() * kept - p) * (temperature / double(student_logits.size(0)));
  return {loss, grad.to(student_logits.scalar_type())};
}

LossAndGradient end2_loss_and_gradient(const at::Tensor& student_logits, const at::Tensor& mean_log_probs,
                                       double temperature, bool float64) {
  check_pair(student_logits, mean_log_probs);
  at::NoGradGuard no_grad;
  return end2_nll(student_logits, mean_log_probs, temperature, float64);
}

LossAndGradient end2_proxy_loss_and_gradient(const at::Tensor& student_logits,
                                             const at::Tensor& proxy_concentrations, double temperature,
                                             bool float64) {
  check_pair(student_logits, proxy_concentrations);
  at::NoGradGuard no_grad;
  return proxy_dirichlet_kl(student_logits, proxy_concentrations, temperature, float64);
}

}  // namespace endd::distill
