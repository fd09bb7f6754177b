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
#include "endd/experiments/model_table.h"
#include "endd/runs/run_directory.h"

namespace endd::experiments {

/// DIR/STAGE: where a stage's run directory is.
std::string stage_dir(const std::string& dir, const std::string& stage);

/// Each stage reused, resumed or trained (stage_runs.h), the students side
/// by side in lanes; returns results.json "stages" {stage: outcome}.
nlohmann::json run_stages(const ClassificationExperiment& e, c10::Device device, const std::string& dir, bool quiet);

/// The test set and the OOD sets, read as the ensemble's model (`info`) reads data.
EvaluationSets load_evaluation_sets(const ClassificationExperiment& e, const runs::RunInfo& info);

/// Every model on every set: `single` (the typical member) and `ensemble`
/// from the members' logits, each student from its own outputs;
/// `knowledge_models` gets the models with knowledge uncertainty.
ModelTable evaluate_models(const ClassificationExperiment& e, const EvaluationSets& sets, c10::Device device,
                           const std::string& dir, std::vector<std::string>& knowledge_models);

/// `config` is the resolved configuration, kept as results.json "config".
report::ClassificationResults run_classification(const ClassificationExperiment& e, const nlohmann::json& config,
                                                 c10::Device device, const std::string& dir, bool quiet);

}  // namespace endd::experiments
