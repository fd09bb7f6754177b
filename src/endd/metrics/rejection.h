#pragma once
// Prediction rejection (MATH.md section 4): reject the most uncertain inputs to
// an oracle and watch the error over the whole set fall.
#include <cstdint>
#include <vector>

namespace endd::metrics {

struct RejectionResult {
  double prr = 0;         ///< %, AR_uncertainty / AR_oracle; NaN when base error is 0 or 100%
  double base_error = 0;  ///< %, error with nothing rejected
  /// The curve at `grid` evenly spaced rejection fractions (0 .. 1), in % error
  /// over the whole set, beside the oracle and random-rejection curves.
  std::vector<double> fraction, error, oracle, random;
};

/// uncertainty: high = reject first; is_error: the prediction was wrong.
/// Tied uncertainties are rejected together (the curve is linear across a tie,
/// the expectation over orderings), so the area is exact, O(N log N).
RejectionResult prediction_rejection(const std::vector<double>& uncertainty,
                                     const std::vector<uint8_t>& is_error, int grid = 101);

}  // namespace endd::metrics
