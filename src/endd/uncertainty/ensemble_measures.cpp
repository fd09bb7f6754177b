// Ensemble measures, MATH.md section 1.
#include <ATen/ATen.h>

#include "endd/core/error.h"
#include "endd/uncertainty/measures.h"

namespace endd::uncertainty {
namespace {

// Rows per chunk: bounds the [chunk, M, K] float64 temporaries to a few MB each.
constexpr int64_t kChunkElements = 1 << 21;

// probs and log_probs: [n, M, K] float64; log_probs finite.
Measures measures_from(const at::Tensor& probs, const at::Tensor& log_probs,
                       const at::Tensor& log_mean_probs) {
  const int64_t M = probs.size(1);
  Measures out;
  out.mean_probs = probs.mean(1);
  // 0 ln 0 = 0: the log is finite, so p * log p is 0 where p is 0.
  out.total = -(out.mean_probs * log_mean_probs).sum(-1);
  at::Tensor member_neg_entropy = (probs * log_probs).sum(-1);  // [n, M]
  out.data = -member_neg_entropy.mean(1);
  // Mutual information as the mean KL(pi_m || pbar): a sum of non-negative
  // terms, exactly 0 for M = 1, and free of the total - data cancellation.
  out.knowledge =
      (probs * (log_probs - log_mean_probs.unsqueeze(1))).sum(-1).mean(1).clamp_min(0.0);
  if (M == 1) {
    out.epkl = at::zeros_like(out.total);
  } else {
    // sum_{i != j} KL(pi_i||pi_j) = M^2 [ sum_c pbar_c (-mean_m ln pi_mc) - data ].
    at::Tensor cross = -(out.mean_probs * log_probs.mean(1)).sum(-1);
    out.epkl = ((cross - out.data) * (double(M) / double(M - 1))).clamp_min(0.0);
  }
  auto max = out.mean_probs.max(-1);
  out.confidence = std::get<0>(max);
  out.prediction = std::get<1>(max);
  return out;
}

void check_ensemble_shape(const at::Tensor& t, const char* what) {
  ENDD_CHECK(t.dim() == 3, what, " must have shape [N, M, K], got ", t.sizes());
  ENDD_CHECK(t.size(1) >= 1 && t.size(2) >= 1, what, " needs M >= 1 members and K >= 1 classes, got ",
             t.sizes());
}

template <typename F>
Measures chunked(const at::Tensor& input, F&& per_chunk) {
  const int64_t n = input.size(0);
  const int64_t per_row = std::max<int64_t>(1, input.size(1) * input.size(2));
  const int64_t rows = std::max<int64_t>(1, kChunkElements / per_row);
  std::vector<Measures> chunks;
  for (int64_t start = 0; start < n || (n == 0 && chunks.empty()); start += rows) {
    at::Tensor part = input.slice(0, start, std::min(n, start + rows))
                          .to(at::TensorOptions().dtype(at::kDouble).device(at::kCPU));
    chunks.push_back(per_chunk(part));
    if (n == 0) break;
  }
  return concatenate(chunks);
}

}  // namespace

Measures ensemble_measures_from_probs(const at::Tensor& probs) {
  check_ensemble_shape(probs, "ensemble probabilities");
  return chunked(probs, [](const at::Tensor& p) {
    at::Tensor log_p = p.clamp_min(kLogFloor).log();
    at::Tensor log_mean = p.mean(1).clamp_min(kLogFloor).log();
    return measures_from(p, log_p, log_mean);
  });
}

Measures ensemble_measures_from_logits(const at::Tensor& logits) {
  check_ensemble_shape(logits, "ensemble logits");
  return chunked(logits, [](const at::Tensor& z) {
    at::Tensor log_p = at::log_softmax(z, -1);
    at::Tensor p = log_p.exp();
    at::Tensor log_mean = at::logsumexp(log_p, 1) - std::log(double(z.size(1)));
    return measures_from(p, log_p, log_mean);
  });
}

}  // namespace endd::uncertainty
