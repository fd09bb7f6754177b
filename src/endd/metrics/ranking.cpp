#include "endd/metrics/ranking.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "endd/core/error.h"

namespace endd::metrics {
namespace {

void check_sizes(const std::vector<double>& scores, const std::vector<uint8_t>& positive) {
  ENDD_CHECK(scores.size() == positive.size(), "scores (", scores.size(), ") and labels (",
             positive.size(), ") differ in length");
  for (double s : scores) ENDD_CHECK(!std::isnan(s), "ranking metrics: a score is NaN");
}

// Indices sorted by descending score.
std::vector<uint32_t> order_descending(const std::vector<double>& scores) {
  std::vector<uint32_t> order(scores.size());
  std::iota(order.begin(), order.end(), 0u);
  std::sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) { return scores[a] > scores[b]; });
  return order;
}

// Walks thresholds from the highest score down, one group of tied scores at a
// time, calling visit(true_positives, false_positives) after each group.
template <typename Visit>
void sweep(const std::vector<double>& scores, const std::vector<uint8_t>& positive, Visit&& visit) {
  auto order = order_descending(scores);
  int64_t tp = 0, fp = 0;
  size_t i = 0;
  while (i < order.size()) {
    double s = scores[order[i]];
    while (i < order.size() && scores[order[i]] == s) {
      if (positive[order[i]]) ++tp; else ++fp;
      ++i;
    }
    if (!visit(tp, fp)) return;
  }
}

std::pair<int64_t, int64_t> class_counts(const std::vector<uint8_t>& positive) {
  int64_t p = 0;
  for (auto v : positive) p += v ? 1 : 0;
  return {p, static_cast<int64_t>(positive.size()) - p};
}

}  // namespace

double auroc(const std::vector<double>& scores, const std::vector<uint8_t>& positive) {
  check_sizes(scores, positive);
  const auto counts = class_counts(positive);
  const int64_t P = counts.first, N = counts.second;
  if (P == 0 || N == 0) return std::nan("");
  // Mann-Whitney U from descending sweep: each positive beats the negatives
  // below its group and ties with the negatives inside it.
  double wins = 0;
  int64_t prev_tp = 0, prev_fp = 0;
  sweep(scores, positive, [&](int64_t tp, int64_t fp) {
    int64_t group_pos = tp - prev_tp, group_neg = fp - prev_fp;
    wins += double(group_pos) * (double(N - fp) + 0.5 * double(group_neg));
    prev_tp = tp;
    prev_fp = fp;
    return true;
  });
  return wins / (double(P) * double(N));
}

double average_precision(const std::vector<double>& scores, const std::vector<uint8_t>& positive) {
  check_sizes(scores, positive);
  const auto counts = class_counts(positive);
  const int64_t P = counts.first, N = counts.second;
  if (P == 0) return std::nan("");
  double ap = 0, prev_recall = 0;
  sweep(scores, positive, [&](int64_t tp, int64_t fp) {
    double recall = double(tp) / double(P);
    double precision = double(tp) / double(tp + fp);
    ap += (recall - prev_recall) * precision;
    prev_recall = recall;
    return true;
  });
  return ap;
}

double fpr_at_tpr(const std::vector<double>& scores, const std::vector<uint8_t>& positive, double tpr) {
  check_sizes(scores, positive);
  const auto counts = class_counts(positive);
  const int64_t P = counts.first, N = counts.second;
  if (P == 0 || N == 0) return std::nan("");
  double result = 1.0;
  sweep(scores, positive, [&](int64_t tp, int64_t fp) {
    // Compare counts, not ratios, so 95% of 20 positives means exactly 19.
    if (double(tp) >= tpr * double(P) - 1e-9) {
      result = double(fp) / double(N);
      return false;
    }
    return true;
  });
  return result;
}

RocCurve roc_curve(const std::vector<double>& scores, const std::vector<uint8_t>& positive) {
  check_sizes(scores, positive);
  const auto counts = class_counts(positive);
  const int64_t P = counts.first, N = counts.second;
  RocCurve roc;
  roc.fpr.push_back(0);
  roc.tpr.push_back(0);
  sweep(scores, positive, [&](int64_t tp, int64_t fp) {
    roc.fpr.push_back(N > 0 ? double(fp) / N : 0.0);
    roc.tpr.push_back(P > 0 ? double(tp) / P : 0.0);
    return true;
  });
  return roc;
}

DetectionResult ood_detection(const std::vector<double>& in_domain, const std::vector<double>& ood) {
  std::vector<double> scores;
  scores.reserve(in_domain.size() + ood.size());
  scores.insert(scores.end(), in_domain.begin(), in_domain.end());
  scores.insert(scores.end(), ood.begin(), ood.end());
  std::vector<uint8_t> is_ood(scores.size(), 0);
  std::fill(is_ood.begin() + static_cast<std::ptrdiff_t>(in_domain.size()), is_ood.end(), 1);
  std::vector<double> negated(scores.size());
  std::vector<uint8_t> is_in(scores.size());
  for (size_t i = 0; i < scores.size(); ++i) {
    negated[i] = -scores[i];
    is_in[i] = !is_ood[i];
  }
  DetectionResult r;
  r.auroc = 100.0 * auroc(scores, is_ood);
  r.aupr_out = 100.0 * average_precision(scores, is_ood);
  r.aupr_in = 100.0 * average_precision(negated, is_in);
  r.fpr95 = 100.0 * fpr_at_tpr(scores, is_ood, 0.95);
  return r;
}

}  // namespace endd::metrics
