#pragma once
// An experiment's configuration, resolved from its sources in one order of
// precedence (lowest first): the settings' built-in values, the shipped file
// (configs/experiments/NAME.toml), the user's file, command-line flags
// (`--seed` among them), `--set key=value`, as for train and distill. The `--quick` overlay (NAME.quick.toml)
// replaces the values the user's file leaves as shipped: a printed config
// runs small with --quick, and the values a user edited in it stay.
// Every value remembers where it came from, so a range error names the
// file:line or flag (config/config.h).
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "endd/config/config.h"

namespace endd::experiments {

/// A flag the user typed, e.g. {"--noise", "data.noise", "0.4"}.
struct FlagValue {
  std::string flag, key, text;
};

struct ExperimentSources {
  std::string file;  ///< the user's TOML ("" = none)
  bool quick = false;
  std::vector<FlagValue> flags;
  std::vector<std::string> sets;   ///< "key=value"
  std::optional<uint64_t> seed;    ///< --seed, only when typed (a flag)
};

/// `schema` (with the built-in values) resolved for experiment `name`.
config::Config resolve_experiment_config(config::Config schema, const std::string& name,
                                         const ExperimentSources& sources);

/// The `experiment = "..."` key of a user's file; endd::Error naming the file
/// when it is missing or not a string.
std::string experiment_named_in(const std::string& path);

}  // namespace endd::experiments
