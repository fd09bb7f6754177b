#pragma once
// The experiments' TOML files shipped in configs/experiments/ and compiled
// into the library: "spiral", "fashion-mnist", "cifar10", "classification",
// "regression-toy", "regression-tabular",
// and their `--quick` overlays "NAME.quick".
#include <string>
#include <vector>

namespace endd::experiments {

/// The file's text, or nullptr for a name that is not shipped.
const std::string* shipped_config(const std::string& name);

/// The shipped experiments' names, sorted (overlays not among them).
std::vector<std::string> shipped_experiment_names();

}  // namespace endd::experiments
