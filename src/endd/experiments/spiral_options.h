#pragma once
// The spiral experiment's options: one table of keys, flags, checks and
// help (config/option_table.h); its values live in
// configs/experiments/spiral.toml.
#include "endd/config/option_table.h"
#include "endd/experiments/spiral.h"

namespace endd::experiments {

const config::OptionTable<SpiralConfig>& spiral_options();

/// The settings a resolved configuration describes, every value checked.
SpiralConfig spiral_config_from(const config::Config& c);

/// The shipped experiment (configs/experiments/spiral.toml), with its
/// `--quick` overlay when `quick`.
SpiralConfig spiral_config(bool quick);

}  // namespace endd::experiments
