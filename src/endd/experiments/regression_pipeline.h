#pragma once
// The stages every regression experiment runs (issue 19): an ensemble of
// Gaussian MLPs trained together, its typical member as the single network,
// and three students distilled from it (EnD, EnD^2, EnD^2 with AUX inputs);
// then each model's predictive on any inputs in the user's units.
#include <c10/core/Device.h>
#include <nlohmann/json.hpp>

#include <map>
#include <memory>
#include <string>

#include "endd/data/dataset.h"
#include "endd/models/mlp_ensemble.h"
#include "endd/models/regression_outputs.h"
#include "endd/train/ensemble_trainer.h"
#include "endd/train/regression_distiller.h"
#include "endd/uncertainty/regression_predictive.h"

namespace endd::experiments {

struct RegressionModelOptions {
  uint64_t seed = 0;  ///< member and student initialisation and data order
  int64_t members = 10;
  int64_t hidden_layers = 2, width = 64;
  train::EnsembleTrainOptions ensemble;  ///< its objective is always the Gaussian NLL
  train::RegressionDistillOptions student;
  /// Early stopping: this fraction of the training rows is held out, and each
  /// member keeps its weights of lowest validation NLL, training stopping
  /// once all went `patience` epochs without improving (0 = no hold-out:
  /// every epoch counts). The students then learn on all training rows.
  double val_fraction = 0;
  int64_t patience = 10;
  bool quiet = false;
  nlohmann::json to_json() const;
};

/// The models' names in results, in table order.
inline const char* const kRegressionModelNames[] = {"single", "ensemble", "end", "end2", "end2_aux"};

struct RegressionModels {
  data::Standardizer input_scale;  ///< fitted on the training inputs
  models::TargetScale target_scale;
  c10::Device device = c10::kCPU;
  std::unique_ptr<models::MlpEnsemble> ensemble;
  std::map<std::string, std::unique_ptr<models::MlpEnsemble>> students;  ///< end, end2, end2_aux
  /// The member that stands for "single" (typical_member), -1 until chosen.
  int64_t single = -1;
  models::PositiveLink normal_gamma_link = models::PositiveLink::kExp;  ///< of the end2 students
};

/// Trains the ensemble on raw inputs [N, D] and targets [N] and distils it on
/// the training inputs (end, end2) and on them plus `aux` [A, D] (end2_aux).
RegressionModels train_regression_models(const RegressionModelOptions& options, const at::Tensor& inputs,
                                         const at::Tensor& targets, const at::Tensor& aux, c10::Device device);

/// The member with the median NLL on (inputs, targets), the lowest index among
/// equals: the "single network" a user would have trained.
int64_t typical_member(RegressionModels& models, const at::Tensor& inputs, const at::Tensor& targets);

/// Every model's predictive on raw inputs [N, D] (targets optional) in the
/// user's units; "single" needs models.single chosen.
std::map<std::string, uncertainty::RegressionPredictive> regression_predictives(RegressionModels& models,
                                                                               const at::Tensor& inputs,
                                                                               const at::Tensor& targets = {});

}  // namespace endd::experiments
