#pragma once
// Trains all members of an EnsembleNet together: one graph, one optimiser
// step per batch. The loss is the SUM over members of each member's mean
// cross-entropy, so member m's gradient (and its Adam update, which is
// elementwise) is exactly what training it alone would give.
#include <ATen/core/Tensor.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "endd/models/ensemble_net.h"
#include "endd/train/best_members.h"
#include "endd/train/epoch_log.h"

namespace endd::train {

/// What each member fits: classes by cross-entropy, or (regression) a
/// Gaussian's mean and variance by its NLL (models/regression_heads.h; the
/// labels are then float targets).
enum class Objective { kCrossEntropy, kGaussianNll };

struct EnsembleTrainOptions {
  Objective objective = Objective::kCrossEntropy;
  int64_t epochs = 60;
  int64_t batch_size = 128;
  double learning_rate = 3e-3;
  double weight_decay = 0;
  bool cosine_schedule = true;
  bool quiet = false;
  std::string label;  ///< names the progress line; default "train M members"
  /// Optional augmentation of member m's batch [1, b, ...], given a seed
  /// derived from (member m's order seed, epoch, step): runs stay
  /// deterministic, and a member's draws do not depend on the other members.
  std::function<at::Tensor(const at::Tensor&, uint64_t)> augment;
  /// Held-out inputs [V, D...] and labels [V] (Gaussian members: float
  /// targets): each epoch logs the ensemble's validation error (Gaussian
  /// members: the RMSE of its mean, in the targets' units as given) and NLL, and `best` (when given) records each member's
  /// weights at its lowest validation NLL.
  at::Tensor val_inputs, val_labels;
  BestMembers* best = nullptr;
  /// With `best`: stop once every member has gone this many epochs without
  /// improving (0 = train every epoch); the caller restores the best weights.
  int64_t patience = 0;
};

/// Trains `net` on inputs [N, D...] / labels [N]. Member m's data order in
/// epoch e comes from a generator seeded derive_seed(order_seeds[m], e), so a
/// run resumed at any epoch continues exactly as an uninterrupted one.
TrainingCurve train_ensemble(models::EnsembleNet& net, const at::Tensor& inputs, const at::Tensor& labels,
                             const std::vector<uint64_t>& order_seeds, const EnsembleTrainOptions& options,
                             const TrainingHooks& hooks = {});

}  // namespace endd::train
