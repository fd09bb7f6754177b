#pragma once
// Threshold-free detection metrics: AUROC, average precision (AUPR) and the
// false-positive rate at a true-positive rate. O(N log N); tied scores are
// treated as one threshold (AUROC counts a tied positive/negative pair as 1/2).
// Results are fractions in [0, 1]; NaN where undefined (a class is empty).
#include <cstdint>
#include <vector>

namespace endd::metrics {

/// P(score of a random positive > score of a random negative) + 1/2 P(tie).
double auroc(const std::vector<double>& scores, const std::vector<uint8_t>& positive);

/// Average precision, positives ranked by descending score:
/// sum over distinct thresholds of (R_t - R_{t-1}) P_t.
double average_precision(const std::vector<double>& scores, const std::vector<uint8_t>& positive);

/// FPR at the highest threshold whose TPR reaches `tpr` (positives scored high).
double fpr_at_tpr(const std::vector<double>& scores, const std::vector<uint8_t>& positive,
                  double tpr = 0.95);

/// Points of the ROC curve (one per distinct threshold, from (0,0) to (1,1)).
struct RocCurve {
  std::vector<double> fpr, tpr;
};
RocCurve roc_curve(const std::vector<double>& scores, const std::vector<uint8_t>& positive);

/// OOD detection in %: in-domain inputs vs out-of-domain inputs, scored by an
/// uncertainty (OOD is the positive class). aupr_in takes in-domain as positive
/// with the negated score; fpr95 is on in-domain inputs at 95% TPR on OOD.
struct DetectionResult {
  double auroc, aupr_in, aupr_out, fpr95;
};
DetectionResult ood_detection(const std::vector<double>& in_domain_uncertainty,
                              const std::vector<double>& out_of_domain_uncertainty);

}  // namespace endd::metrics
