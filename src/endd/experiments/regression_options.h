#pragma once
// The regression experiments' options (issue 19): one table each of keys,
// flags, checks and help (config/option_table.h); their values live in
// configs/experiments/regression-toy.toml and regression-tabular.toml, and
// `--quick` is each file's overlay (NAME.quick.toml).
#include "endd/config/option_table.h"
#include "endd/experiments/regression_tabular.h"
#include "endd/experiments/regression_toy.h"

namespace endd::experiments {

const config::OptionTable<RegressionToyConfig>& regression_toy_options();
const config::OptionTable<RegressionTabularConfig>& regression_tabular_options();

/// The settings a resolved configuration describes, every value checked.
RegressionToyConfig regression_toy_config_from(const config::Config& c);
RegressionTabularConfig regression_tabular_config_from(const config::Config& c);

/// The shipped experiments, with their `--quick` overlays when `quick`.
RegressionToyConfig regression_toy_config(bool quick);
RegressionTabularConfig regression_tabular_config(bool quick);

}  // namespace endd::experiments
