#include "endd/distill/teacher_statistics.h"

#include <ATen/ATen.h>
#include <ATen/Dispatch.h>
#include <ATen/Parallel.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "endd/core/error.h"

namespace endd::distill {
namespace {

void check_teacher(const at::Tensor& t, double temperature) {
  ENDD_CHECK(t.dim() == 3, "teacher logits must be [B, M, K], got ", t.sizes());
  ENDD_CHECK(temperature >= 1.0 && std::isfinite(temperature), "temperature must be >= 1, got ", temperature);
}

enum class Statistic { kMeanProbs, kMeanLogProbs };

// Per member a softmax at T (max-shifted), folded into per-class sums.
// Exponentials are the expensive part: they are taken for a block of rows at
// a time by one ATen call, which runs the CPU's vector units (SLEEF; the
// loop's own std::exp ran one double at a time). Logarithms are amortised:
// the smoothed probabilities of a few members are multiplied first and their
// product's logarithm taken once, `chunk` members at a time, few enough that
// the product of values >= eps / K stays a normal double. Both together are
// several times faster than the equivalent chain of ATen operations, whose
// reductions over K = 3 classes vectorise poorly (bench/run).
template <typename scalar_t>
void accumulate_rows(const scalar_t* logits, double* out, int64_t begin, int64_t end, int64_t M, int64_t K,
                     double T, Statistic stat, double eps) {
  const int64_t block_rows = std::max<int64_t>(1, 16384 / (M * K));
  std::vector<double> shifted(static_cast<size_t>(block_rows * M * K)), e(shifted.size()),
      product(static_cast<size_t>(K));
  const double keep = 1.0 - eps, floor = eps / double(K), inverse_T = 1.0 / T;
  // floor^chunk > 1e-300 (and with eps = 0, sum^chunk < K^chunk < 1e300).
  const double worst = eps > 0 ? -std::log(floor) : std::log(double(K));
  const int64_t chunk = std::clamp<int64_t>(static_cast<int64_t>(690.0 / std::max(worst, 1.0)), 1, 16);
  for (int64_t first = begin; first < end; first += block_rows) {
    const int64_t rows = std::min(block_rows, end - first);
    // z / T - max over the classes, per member of each row (a product: a
    // division per logit cost as much as the exponentials).
    for (int64_t i = 0; i < rows * M; ++i) {
      const scalar_t* row = logits + (first * M + i) * K;
      double* to = shifted.data() + i * K;
      double max = -std::numeric_limits<double>::infinity();
      for (int64_t c = 0; c < K; ++c) max = std::max(max, to[c] = double(row[c]) * inverse_T);
      for (int64_t c = 0; c < K; ++c) to[c] -= max;
    }
    const int64_t count = rows * M * K;
    at::Tensor exponentials = at::from_blob(e.data(), {count}, at::kDouble);
    at::exp_out(exponentials, at::from_blob(shifted.data(), {count}, at::kDouble));
    for (int64_t r = 0; r < rows; ++r) {
      double* acc = out + (first + r) * K;
      std::fill(acc, acc + K, 0.0);
      std::fill(product.begin(), product.end(), 1.0);
      double sum_product = 1.0;
      int64_t until_log = chunk;  // members folded in before the next logarithm
      for (int64_t m = 0; m < M; ++m) {
        const double* ex = e.data() + (r * M + m) * K;
        double sum = 0;
        for (int64_t c = 0; c < K; ++c) sum += ex[c];
        if (stat == Statistic::kMeanProbs) {
          for (int64_t c = 0; c < K; ++c) acc[c] += ex[c] / sum;
        } else if (eps > 0) {
          // (1 - eps) p + eps / K in linear space: an underflowing p leaves
          // exactly the floor, and p near 1 keeps double precision.
          const double scale = keep / sum;
          for (int64_t c = 0; c < K; ++c) product[c] *= ex[c] * scale + floor;
        } else {  // ln p_c = z_c / T - max - ln(sum)
          const double* sh = shifted.data() + (r * M + m) * K;
          for (int64_t c = 0; c < K; ++c) acc[c] += sh[c];
          sum_product *= sum;
        }
        if (stat == Statistic::kMeanLogProbs && (--until_log == 0 || m + 1 == M)) {
          until_log = chunk;
          if (eps > 0) {
            for (int64_t c = 0; c < K; ++c) acc[c] += std::log(product[c]);
            std::fill(product.begin(), product.end(), 1.0);
          } else {
            const double log_sums = std::log(sum_product);
            for (int64_t c = 0; c < K; ++c) acc[c] -= log_sums;
            sum_product = 1.0;
          }
        }
      }
      for (int64_t c = 0; c < K; ++c) acc[c] /= double(M);
    }
  }
}

at::Tensor member_statistic(const at::Tensor& teacher_logits, double T, Statistic stat, double eps) {
  const int64_t N = teacher_logits.size(0), M = teacher_logits.size(1), K = teacher_logits.size(2);
  if (!teacher_logits.device().is_cpu()) {  // one ATen chain: cheap on a GPU
    at::Tensor z = teacher_logits.to(at::kDouble) / T;
    if (stat == Statistic::kMeanProbs) return at::softmax(z, -1).mean(1);
    at::Tensor log_p = at::log_softmax(z, -1);
    if (eps > 0) log_p = at::log(log_p.exp() * (1.0 - eps) + eps / double(K));
    return log_p.mean(1);
  }
  at::Tensor z = teacher_logits.contiguous();
  at::Tensor out = at::empty({N, K}, z.options().dtype(at::kDouble));
  AT_DISPATCH_FLOATING_TYPES(z.scalar_type(), "teacher_statistic", [&] {
    const scalar_t* logits = z.data_ptr<scalar_t>();
    double* o = out.data_ptr<double>();
    at::parallel_for(0, N, 64, [&](int64_t begin, int64_t end) {
      accumulate_rows(logits, o, begin, end, M, K, T, stat, eps);
    });
  });
  return out;
}

}  // namespace

at::Tensor teacher_mean_probs(const at::Tensor& teacher_logits, double temperature) {
  check_teacher(teacher_logits, temperature);
  return member_statistic(teacher_logits, temperature, Statistic::kMeanProbs, 0);
}

at::Tensor teacher_mean_log_probs(const at::Tensor& teacher_logits, double temperature, double smoothing) {
  check_teacher(teacher_logits, temperature);
  ENDD_CHECK(smoothing >= 0 && smoothing < 1, "smoothing must lie in [0, 1), got ", smoothing);
  return member_statistic(teacher_logits, temperature, Statistic::kMeanLogProbs, smoothing);
}

at::Tensor teacher_proxy_dirichlet(const at::Tensor& teacher_logits, double temperature, double smoothing,
                                   double offset, double max_precision) {
  ENDD_CHECK(offset >= 0, "proxy offset must be >= 0, got ", offset);
  ENDD_CHECK(max_precision > 0, "proxy max_precision must be > 0, got ", max_precision);
  const double K = double(teacher_logits.size(-1));
  ENDD_CHECK(K >= 2, "a Proxy-Dirichlet target needs at least 2 classes, got ", teacher_logits.size(-1));
  at::Tensor mean_log = teacher_mean_log_probs(teacher_logits, temperature, smoothing);
  // Smoothing is linear, so the smoothed members' mean is the smoothed mean.
  at::Tensor pbar = teacher_mean_probs(teacher_logits, temperature).to(at::kDouble) * (1 - smoothing) + smoothing / K;
  at::Tensor mkl = (pbar * (pbar.log() - mean_log)).sum(-1, true);  // >= 0 by Jensen
  at::Tensor precision = (K - 1) / (2 * mkl.clamp_min((K - 1) / (2 * max_precision)));  // <= max_precision
  return pbar * precision + offset;
}

}  // namespace endd::distill
