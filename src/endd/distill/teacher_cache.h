#pragma once
// Member logits on every transfer input, computed once before distillation.
#include <ATen/core/Tensor.h>

#include "endd/models/ensemble_net.h"

namespace endd::distill {

/// Teacher logits [N, M, K] (float32, on the model's device) of `ensemble` on
/// `inputs` [N, D...], evaluated without gradients in batches of `batch_size`.
at::Tensor compute_teacher_logits(models::EnsembleNet& ensemble, const at::Tensor& inputs,
                                  int64_t batch_size = 4096);

}  // namespace endd::distill
