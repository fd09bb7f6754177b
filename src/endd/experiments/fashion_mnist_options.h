#pragma once
// The Fashion-MNIST experiment's options: one table of keys, flags, checks
// and help (config/option_table.h); its values live in
// configs/experiments/fashion-mnist.toml.
#include "endd/config/option_table.h"
#include "endd/experiments/fashion_mnist.h"

namespace endd::experiments {

const config::OptionTable<FashionMnistConfig>& fashion_mnist_options();

/// The settings a resolved configuration describes, every value checked.
FashionMnistConfig fashion_mnist_config_from(const config::Config& c);

/// The shipped experiment (configs/experiments/fashion-mnist.toml), with its
/// `--quick` overlay when `quick`.
FashionMnistConfig fashion_mnist_config(bool quick);

}  // namespace endd::experiments
