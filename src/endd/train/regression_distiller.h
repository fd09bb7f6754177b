#pragma once
// Distils an ensemble of Gaussian regressors (its members' means and
// variances on the transfer inputs) into one network (MATH.md section 6):
// EnD, a Gaussian student (2 outputs) fitted to the members' Gaussians, or
// EnD^2, a Normal-Gamma prior network (4 outputs) fitted by the members'
// likelihood. Adam, cosine learning-rate decay, gradient-norm clipping.
#include <cstdint>
#include <string>

#include "endd/models/ensemble_net.h"
#include "endd/models/regression_heads.h"
#include "endd/train/epoch_log.h"

namespace endd::train {

enum class RegressionMethod { kEnD, kEnD2 };

struct RegressionDistillOptions {
  RegressionMethod method = RegressionMethod::kEnD2;
  /// EnD^2: "moments" (distill::normal_gamma_moment_loss: the Gamma by the
  /// members' precisions' likelihood, the knowledge variance matched to the
  /// members' spread; 1.05-1.24x the ensemble's far from the toy problem's
  /// data) or "likelihood" (the members' joint Normal-Gamma likelihood, which
  /// overstates it there, 1.15-1.98x; docs/regression.md).
  std::string normal_gamma_fit = "moments";
  models::PositiveLink normal_gamma_link = models::PositiveLink::kExp;  ///< EnD^2: the head's link
  int64_t epochs = 100;
  int64_t batch_size = 128;
  double learning_rate = 3e-3;
  bool cosine_schedule = true;
  double clip_norm = 10;  ///< 0 disables clipping
  uint64_t order_seed = 0;
  bool quiet = false;
  std::string label = "distill";
};

/// Trains one-member `student` on inputs [N, D] against the members' means
/// and variances [N, M] (float64 losses). The data order of epoch e comes from
/// derive_seed(order_seed, e), so a run resumed (hooks) continues exactly.
TrainingCurve distill_regression(models::EnsembleNet& student, const at::Tensor& inputs,
                                 const at::Tensor& member_means, const at::Tensor& member_variances,
                                 const RegressionDistillOptions& options, const TrainingHooks& hooks = {});

}  // namespace endd::train
