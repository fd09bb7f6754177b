#pragma once
// A 1-D heteroscedastic regression problem for EnD^2 on regression (issue 19):
// y = x sin(x) + noise of sd 0.2 + 0.1 |x|, training inputs on [-5, -1.5] and
// [1.5, 5] (a gap inside the range), evaluated on held-out points and on a
// grid over [-12, 12] (the gap and far outside). Single network, ensemble of
// Gaussian MLPs, EnD (Gaussian student), EnD^2 and EnD^2+AUX (Normal-Gamma).
#include <c10/core/Device.h>
#include <nlohmann/json.hpp>

#include <string>

#include "endd/experiments/regression_pipeline.h"

namespace endd::experiments {

struct RegressionToyConfig {
  RegressionModelOptions models;  ///< members, students, seed (also of the data) and quiet
  int64_t train_count = 1000, test_count = 1000;
  int64_t aux_count = 1000;   ///< AUX inputs uniform on [-aux_extent, aux_extent]
  double aux_extent = 15;     ///< beyond the grid, so that its ends are inside the AUX inputs' range
  double grid_extent = 12;    ///< the grid covers [-extent, extent]
  double far = 7;             ///< |x| beyond this is "far"
  int64_t grid_points = 481;

  nlohmann::json to_json() const;
};

/// Runs everything and writes results.json, results.md and figures into `dir`.
nlohmann::json run_regression_toy(const RegressionToyConfig& config, c10::Device device, const std::string& dir);

}  // namespace endd::experiments
