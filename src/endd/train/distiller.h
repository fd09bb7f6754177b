#pragma once
// Distils cached teacher logits into a student network (EnD or EnD^2) with
// temperature annealing and gradient-norm clipping.
#include <cstdint>
#include <string>

#include "endd/models/ensemble_net.h"
#include "endd/train/epoch_log.h"

namespace endd::train {

enum class DistillMethod { kEnD, kEnD2 };
DistillMethod parse_distill_method(const std::string& name);  ///< "end" or "end2"

struct DistillOptions {
  DistillMethod method = DistillMethod::kEnD2;
  int64_t epochs = 60;
  int64_t batch_size = 128;
  double learning_rate = 3e-3;
  double weight_decay = 0;
  bool cosine_schedule = true;
  double initial_temperature = 10;  ///< T0 (MATH.md: 10 in the reference code)
  double hold_fraction = 1.0 / 3.0;
  double decay_fraction = 1.0 / 3.0;
  double smoothing = 1e-4;  ///< EnD^2 central smoothing eps
  double clip_norm = 10;    ///< 0 disables clipping
  bool float64_loss = false;
  uint64_t order_seed = 0;
  bool quiet = false;
  std::string label = "distill";  ///< names the progress line
};

/// Trains one-member `student` on `inputs` [N, D...] against `teacher_logits`
/// [N, M, K]. EnD^2 needs M >= 2 (one member has no spread to fit: the
/// Dirichlet likelihood has no finite optimum) and throws endd::Error otherwise.
/// The data order of epoch e comes from derive_seed(options.order_seed, e).
TrainingCurve distill(models::EnsembleNet& student, const at::Tensor& inputs, const at::Tensor& teacher_logits,
                      const DistillOptions& options, const TrainingHooks& hooks = {});

}  // namespace endd::train
