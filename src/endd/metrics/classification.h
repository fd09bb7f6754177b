#pragma once
// Error, NLL, ECE and Brier score of a predictive distribution, as a meter:
// update() with batches, merge() shards, compute() the named results.
#include <ATen/core/Tensor.h>

#include <cstdint>
#include <vector>

namespace endd::metrics {

enum class Binning { kEqualWidth, kEqualMass };

struct ClassificationResult {
  int64_t count = 0;
  double error = 0;   ///< % of inputs whose argmax is wrong
  double nll = 0;     ///< nats, mean -ln p(y|x); probabilities floored at 1e-300
  double ece = 0;     ///< %, top-label, equal-width bins
  double ece_equal_mass = 0;  ///< %, same bins count, equal numbers of inputs
  double brier = 0;   ///< mean sum_c (p_c - [y = c])^2
};

class ClassificationMeter {
 public:
  explicit ClassificationMeter(int num_bins = 15);

  /// probs [N, K] (rows on the simplex), labels [N] int64 in [0, K).
  void update(const at::Tensor& probs, const at::Tensor& labels);
  void merge(const ClassificationMeter& other);
  void reset();
  ClassificationResult compute() const;

 private:
  int num_bins_;
  double nll_sum_ = 0;
  double brier_sum_ = 0;
  std::vector<double> confidence_;
  std::vector<uint8_t> correct_;
};

/// ECE in % of (confidence, correct) pairs, `num_bins` bins of the given kind.
/// Equal width: bin b holds confidences in [b/B, (b+1)/B), the last closed on
/// the right. Equal mass: inputs sorted by confidence, split into B groups of
/// floor/ceil(N/B).
double expected_calibration_error(const std::vector<double>& confidence,
                                  const std::vector<uint8_t>& correct, int num_bins,
                                  Binning binning = Binning::kEqualWidth);

/// Per-bin data behind a reliability diagram (equal-width bins).
struct ReliabilityBin {
  double lower, upper, mean_confidence, accuracy;
  int64_t count;
};
std::vector<ReliabilityBin> reliability_bins(const std::vector<double>& confidence,
                                             const std::vector<uint8_t>& correct, int num_bins);

}  // namespace endd::metrics
