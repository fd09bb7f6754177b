// Dirichlet prior-network measures, MATH.md section 2.
#include <ATen/ATen.h>

#include "endd/core/error.h"
#include "endd/uncertainty/measures.h"

namespace endd::uncertainty {
namespace {

// g(x) = psi(x + 1) - ln x. For large x both terms are ~ln x and their
// difference (~1/(2x)) would lose digits, so the asymptotic series is used:
// psi(x+1) - ln x = 1/(2x) - 1/(12x^2) + 1/(120x^4) - 1/(252x^6) + O(x^-8).
constexpr double kSeriesFrom = 20.0;

at::Tensor psi1_minus_log(const at::Tensor& x, const at::Tensor& log_x) {
  at::Tensor safe_large = x.clamp_min(kSeriesFrom);
  at::Tensor inv = safe_large.reciprocal();
  at::Tensor inv2 = inv * inv;
  at::Tensor series = inv * 0.5 - inv2 * (1.0 / 12) + inv2 * inv2 * (1.0 / 120) -
                      inv2 * inv2 * inv2 * (1.0 / 252);
  at::Tensor direct = at::digamma(x + 1.0) - log_x;
  return at::where(x >= kSeriesFrom, series, direct);
}

}  // namespace

Measures dirichlet_measures(const at::Tensor& logits) {
  ENDD_CHECK(logits.dim() == 2, "Dirichlet logits must have shape [N, K], got ", logits.sizes());
  const int64_t K = logits.size(1);
  ENDD_CHECK(K >= 1, "Dirichlet logits need K >= 1 classes");
  at::Tensor z = logits.to(at::TensorOptions().dtype(at::kDouble).device(at::kCPU))
                     .clamp(-kMaxDirichletLogit, kMaxDirichletLogit);
  at::Tensor log_alpha0 = at::logsumexp(z, -1, /*keepdim=*/true);  // [N, 1]
  at::Tensor log_p = z - log_alpha0;
  at::Tensor p = log_p.exp();
  at::Tensor alpha = z.exp();
  at::Tensor alpha0 = log_alpha0.exp();

  Measures m;
  m.mean_probs = p;
  auto max = p.max(-1);
  m.confidence = std::get<0>(max);
  m.prediction = std::get<1>(max);
  m.total = -(p * log_p).sum(-1);
  m.data = -(p * (at::digamma(alpha + 1.0) - at::digamma(alpha0 + 1.0))).sum(-1);
  // MI = total - data = sum_c p_c g(alpha_c) - g(alpha_0) with g as above.
  m.knowledge = ((p * psi1_minus_log(alpha, z)).sum(-1) -
                 psi1_minus_log(alpha0, log_alpha0).squeeze(-1))
                    .clamp_min(0.0);
  m.epkl = (double(K - 1) * (-log_alpha0).exp()).squeeze(-1);
  m.diff_entropy = at::lgamma(alpha).sum(-1) - at::lgamma(alpha0).squeeze(-1) +
                   ((alpha0 - double(K)) * at::digamma(alpha0)).squeeze(-1) -
                   ((alpha - 1.0) * at::digamma(alpha)).sum(-1);
  m.precision = alpha0.squeeze(-1);
  return m;
}

}  // namespace endd::uncertainty
