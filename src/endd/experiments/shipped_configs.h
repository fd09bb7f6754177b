#pragma once
// The experiments' TOML files shipped in configs/experiments/ and compiled
// into the library: "spiral", "fashion-mnist", and their `--quick` overlays
// "spiral.quick", "fashion-mnist.quick".
#include <string>

namespace endd::experiments {

/// The file's text, or nullptr for a name that is not shipped.
const std::string* shipped_config(const std::string& name);

}  // namespace endd::experiments
