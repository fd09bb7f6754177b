#pragma once
// The run-directory workflow for regression (task = regression,
// docs/regression.md): Gaussian MLP members trained on a numeric target,
// distilled into a Gaussian (EnD) or Normal-Gamma (EnD^2) student, and a
// finished run's predictive distribution on new inputs. Reached through
// train_run, distill_run and resume_run (workflow.h), which check the output
// directory first.
#include <c10/core/Device.h>

#include <string>

#include "endd/config/config.h"
#include "endd/runs/run_directory.h"
#include "endd/uncertainty/regression_predictive.h"

namespace endd::runs {

void run_regression_training(const config::Config& cfg, const std::string& out, c10::Device device, bool quiet,
                             bool resume);

void run_regression_distillation(const config::Config& cfg, const std::string& teacher_dir, const std::string& out,
                                 c10::Device device, bool quiet, bool resume);

/// A finished regression run's predictive on raw inputs [N, D], in the
/// user's units (targets optional: their log density and PIT).
uncertainty::RegressionPredictive regression_predictive(LoadedModel& model, const at::Tensor& inputs,
                                                        const at::Tensor& targets = {});

}  // namespace endd::runs
