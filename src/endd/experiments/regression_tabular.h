#pragma once
// Regression on real tables (issue 19): for each data set, several random
// train/test splits; on each, the regression pipeline (regression_pipeline.h):
// single network, ensemble of Gaussian MLPs, EnD, EnD^2 and EnD^2+AUX. The
// table gives each model's mean and standard error over the splits.
#include <c10/core/Device.h>
#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "endd/experiments/regression_pipeline.h"

namespace endd::experiments {

struct RegressionTabularConfig {
  RegressionModelOptions models;  ///< members, students, seed and quiet
  std::vector<std::string> datasets;  ///< data/regression_datasets.h names
  int64_t splits = 10;
  double test_fraction = 0.1;
  /// AUX inputs for EnD^2+AUX: as many as training rows, N(0, aux_scale^2)
  /// in standardised input space (as `endd distill --aux generated`).
  double aux_scale = 2.0;

  nlohmann::json to_json() const;
};

/// Runs every data set and split; writes results.json and results.md into `dir`.
nlohmann::json run_regression_tabular(const RegressionTabularConfig& config, c10::Device device,
                                      const std::string& dir);

}  // namespace endd::experiments
