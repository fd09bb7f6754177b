#pragma once
// Real regression tables that Debian packages ship, for the regression-tabular
// experiment (docs/regression.md):
//   diabetes   442 patients x 10 features, disease progression after a year
//              (python3-sklearn: diabetes_data_raw.csv.gz, diabetes_target.csv.gz)
//   boston     506 tracts x 13 features, median house value in $1000s
//              (python3-sklearn: boston_house_prices.csv)
//   auto-mpg   392 cars x 9 features (origin one-hot), miles per gallon
//              (python3-vega-datasets: cars.json; the 14 rows with a missing
//              value dropped, as in the UCI set's usual 392 rows)
// Directories default to the packages' and can be moved with
// ENDD_SKLEARN_DATA_DIR and ENDD_VEGA_DATA_DIR.
#include <string>
#include <vector>

#include "endd/data/dataset.h"

namespace endd::data {

std::vector<std::string> regression_dataset_names();

/// inputs [N, D] float32, targets [N] float64, feature_names; errors name the file.
Dataset load_regression_dataset(const std::string& name);

}  // namespace endd::data
