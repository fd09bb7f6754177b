#pragma once
// Runs a classification experiment (classification_options.h) over run
// directories: DIR/ensemble is an `endd train` run, DIR/<student> an `endd
// distill` run of it, each reused, resumed or trained (stage_runs.h); then
// every model (the typical member as `single`, the ensemble, the students)
// on the test and OOD sets: DIR/results.json, results.md and figures/.
#include <c10/core/Device.h>
#include <nlohmann/json.hpp>

#include <string>

#include "endd/experiments/classification_options.h"

namespace endd::experiments {

/// `config` is the resolved configuration, kept as results.json "config".
nlohmann::json run_classification(const ClassificationExperiment& e, const nlohmann::json& config,
                                  c10::Device device, const std::string& dir, bool quiet);

}  // namespace endd::experiments
