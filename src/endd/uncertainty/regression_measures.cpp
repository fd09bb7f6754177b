#include "endd/uncertainty/regression_measures.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>

#include "endd/core/error.h"

namespace endd::uncertainty {
namespace {

const double kLog2PiE = std::log(2 * M_PI * M_E);

// ln N(y | mu, s2), elementwise with broadcasting.
at::Tensor normal_log_density(const at::Tensor& y, const at::Tensor& mu, const at::Tensor& s2) {
  return -0.5 * (at::log(2 * M_PI * s2) + (y - mu).pow(2) / s2);
}

void check_gaussians(const at::Tensor& means, const at::Tensor& variances) {
  ENDD_CHECK(means.dim() == 2 && variances.sizes() == means.sizes() && means.size(1) >= 1,
             "Gaussian members: expected means and variances [N, M], got ", means.sizes(), " and ", variances.sizes());
}

}  // namespace

std::pair<at::Tensor, at::Tensor> gauss_legendre(int64_t n) {
  ENDD_CHECK(n >= 1, "Gauss-Legendre needs at least 1 node, got ", n);
  // The Jacobi matrix of the Legendre polynomials: off-diagonal k / sqrt(4k^2 - 1).
  at::Tensor k = at::arange(1, n, at::kDouble);
  at::Tensor off = k / at::sqrt(4 * k * k - 1);
  at::Tensor jacobi = at::diag(off, 1) + at::diag(off, -1);
  auto [values, vectors] = at::linalg_eigh(jacobi);
  return {values, 2.0 * vectors.select(0, 0).pow(2)};
}

at::Tensor gaussian_mixture_log_density(const at::Tensor& means, const at::Tensor& variances, const at::Tensor& y) {
  check_gaussians(means, variances);
  at::Tensor mu = means.to(at::kDouble), s2 = variances.to(at::kDouble);
  at::Tensor log_n = normal_log_density(y.to(at::kDouble).reshape({-1, 1}), mu, s2);
  return at::logsumexp(log_n, 1) - std::log(double(means.size(1)));
}

at::Tensor gaussian_mixture_cdf(const at::Tensor& means, const at::Tensor& variances, const at::Tensor& y) {
  check_gaussians(means, variances);
  at::Tensor z = (y.to(at::kDouble).reshape({-1, 1}) - means.to(at::kDouble)) / at::sqrt(variances.to(at::kDouble));
  return (0.5 * at::erfc(-z / std::sqrt(2.0))).mean(1);
}

RegressionMeasures gaussian_ensemble_measures(const at::Tensor& means, const at::Tensor& variances) {
  check_gaussians(means, variances);
  at::Tensor mu = means.to(at::kDouble).cpu(), s2 = variances.to(at::kDouble).cpu();
  const int64_t N = mu.size(0), M = mu.size(1);
  RegressionMeasures r;
  r.prediction = mu.mean(1);
  r.data_variance = s2.mean(1);
  r.knowledge_variance = (mu - r.prediction.unsqueeze(1)).pow(2).mean(1);
  r.total_variance = r.data_variance + r.knowledge_variance;
  r.data = (0.5 * (kLog2PiE + at::log(s2))).mean(1);
  if (M == 1) {
    r.total = r.data.clone();
  } else {
    static const std::vector<double> kOffsets{-10, -6, -4, -3, -2, -1, -0.5, 0, 0.5, 1, 2, 3, 4, 6, 10};
    const at::Tensor offsets = at::tensor(kOffsets, at::kDouble);
    auto [x, w] = gauss_legendre(12);
    const int64_t P = M * static_cast<int64_t>(kOffsets.size()), Q = x.size(0);
    // Rows in chunks: the quadrature needs [rows, P - 1, Q, M] log densities.
    const int64_t chunk = std::max<int64_t>(1, (int64_t{1} << 22) / (P * Q * M));
    std::vector<at::Tensor> parts;
    for (int64_t start = 0; start < N; start += chunk) {
      const int64_t end = std::min(N, start + chunk), n = end - start;
      at::Tensor m = mu.slice(0, start, end), v = s2.slice(0, start, end);
      at::Tensor points = std::get<0>(at::sort((m.unsqueeze(2) + at::sqrt(v).unsqueeze(2) * offsets).view({n, P}), 1));
      at::Tensor lo = points.slice(1, 0, P - 1), half = 0.5 * (points.slice(1, 1, P) - lo);  // [n, P - 1]
      at::Tensor y = (lo + half).unsqueeze(2) + half.unsqueeze(2) * x.view({1, 1, Q});  // [n, P - 1, Q]
      at::Tensor log_n = normal_log_density(y.unsqueeze(3), m.reshape({n, 1, 1, M}), v.reshape({n, 1, 1, M}));
      at::Tensor log_p = at::logsumexp(log_n, 3) - std::log(double(M));
      at::Tensor integrand = -(log_p.exp() * log_p) * w.view({1, 1, Q});
      parts.push_back((integrand.sum(2) * half).sum(1));
    }
    r.total = N == 0 ? at::zeros({0}, at::kDouble) : at::cat(parts);
  }
  r.knowledge = (r.total - r.data).clamp_min(0.0);
  return r;
}

RegressionMeasures normal_gamma_measures(const at::Tensor& m_in, const at::Tensor& kappa_in, const at::Tensor& alpha_in,
                                         const at::Tensor& beta_in) {
  at::Tensor m = m_in.to(at::kDouble).cpu().flatten(), kappa = kappa_in.to(at::kDouble).cpu().flatten();
  at::Tensor alpha = alpha_in.to(at::kDouble).cpu().flatten(), beta = beta_in.to(at::kDouble).cpu().flatten();
  ENDD_CHECK(kappa.sizes() == m.sizes() && alpha.sizes() == m.sizes() && beta.sizes() == m.sizes(),
             "Normal-Gamma: m, kappa, alpha, beta must have one value per input");
  ENDD_CHECK((kappa > 0).all().item<bool>() && (beta > 0).all().item<bool>() && (alpha > 1).all().item<bool>(),
             "Normal-Gamma: needs kappa > 0, beta > 0 and alpha > 1 (finite variances)");
  RegressionMeasures r;
  r.prediction = m;
  r.data_variance = beta / (alpha - 1);
  r.knowledge_variance = r.data_variance / kappa;
  r.total_variance = r.data_variance + r.knowledge_variance;
  // Expected entropy of N(y | mu, 1/tau): 0.5 ln(2 pi e) - 0.5 E[ln tau].
  r.data = 0.5 * kLog2PiE - 0.5 * (at::digamma(alpha) - at::log(beta));
  // The Student-t predictive: nu = 2 alpha, scale^2 = beta (kappa + 1) / (alpha kappa).
  at::Tensor nu = 2 * alpha;
  at::Tensor log_scale = 0.5 * at::log(beta * (kappa + 1) / (alpha * kappa));
  at::Tensor log_beta_fn = at::lgamma(nu / 2) + std::lgamma(0.5) - at::lgamma((nu + 1) / 2);
  r.total = (nu + 1) / 2 * (at::digamma((nu + 1) / 2) - at::digamma(nu / 2)) + 0.5 * at::log(nu) + log_beta_fn +
            log_scale;
  r.knowledge = (r.total - r.data).clamp_min(0.0);
  return r;
}

namespace {

// The regularised incomplete beta function I_x(a, b) by its continued
// fraction (modified Lentz), on the side of x where it converges fast.
double incomplete_beta(double a, double b, double x) {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const bool flip = x > (a + 1) / (a + b + 2);
  if (flip) std::swap(a, b), x = 1 - x;
  const double front = std::exp(std::lgamma(a + b) - std::lgamma(a) - std::lgamma(b) + a * std::log(x) +
                                b * std::log1p(-x)) / a;
  const double tiny = 1e-300;
  double f = 1, c = 1, d = 0;
  for (int i = 0; i <= 400; ++i) {
    const int m = i / 2;
    double numerator;
    if (i == 0)
      numerator = 1;
    else if (i % 2 == 0)
      numerator = m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m));
    else
      numerator = -((a + m) * (a + b + m) * x) / ((a + 2 * m) * (a + 2 * m + 1));
    d = 1 + numerator * d;
    d = std::fabs(d) < tiny ? tiny : d;
    d = 1 / d;
    c = 1 + numerator / c;
    c = std::fabs(c) < tiny ? tiny : c;
    const double cd = c * d;
    f *= cd;
    if (std::fabs(1 - cd) < 1e-15) break;
  }
  const double value = front * (f - 1);
  return flip ? 1 - value : value;
}

struct StudentT {
  at::Tensor nu, loc, scale2;
};
StudentT predictive(const at::Tensor& m, const at::Tensor& kappa, const at::Tensor& alpha, const at::Tensor& beta) {
  at::Tensor a = alpha.to(at::kDouble), k = kappa.to(at::kDouble);
  return {2 * a, m.to(at::kDouble), beta.to(at::kDouble) * (k + 1) / (a * k)};
}

}  // namespace

at::Tensor normal_gamma_log_predictive(const at::Tensor& m, const at::Tensor& kappa, const at::Tensor& alpha,
                                       const at::Tensor& beta, const at::Tensor& y) {
  StudentT t = predictive(m, kappa, alpha, beta);
  at::Tensor z2 = (y.to(at::kDouble) - t.loc).pow(2) / t.scale2;
  return at::lgamma((t.nu + 1) / 2) - at::lgamma(t.nu / 2) - 0.5 * at::log(t.nu * M_PI * t.scale2) -
         (t.nu + 1) / 2 * at::log1p(z2 / t.nu);
}

at::Tensor normal_gamma_predictive_cdf(const at::Tensor& m, const at::Tensor& kappa, const at::Tensor& alpha,
                                       const at::Tensor& beta, const at::Tensor& y) {
  StudentT t = predictive(m, kappa, alpha, beta);
  at::Tensor z = ((y.to(at::kDouble) - t.loc) / at::sqrt(t.scale2)).cpu().contiguous();
  at::Tensor nu = t.nu.cpu().contiguous();
  at::Tensor out = at::empty_like(z);
  const double* zp = z.data_ptr<double>();
  const double* np = nu.data_ptr<double>();
  double* o = out.data_ptr<double>();
  for (int64_t i = 0; i < z.numel(); ++i) {
    // P(T <= z) = 1 - I_{nu / (nu + z^2)}(nu / 2, 1 / 2) / 2 for z >= 0, symmetric below.
    const double tail = 0.5 * incomplete_beta(np[i] / 2, 0.5, np[i] / (np[i] + zp[i] * zp[i]));
    o[i] = zp[i] >= 0 ? 1 - tail : tail;
  }
  return out;
}

}  // namespace endd::uncertainty
