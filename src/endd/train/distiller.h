#pragma once
// Distils cached teacher logits into a student network (EnD or EnD^2) with
// temperature annealing and gradient-norm clipping.
#include <cstdint>
#include <string>
#include <vector>

#include "endd/core/distributed.h"
#include "endd/models/ensemble_net.h"
#include "endd/train/epoch_log.h"

namespace endd::train {

/// EnD: the ensemble's mean. EnD^2: the members' Dirichlet likelihood (the
/// paper). EnD^2 proxy: a Proxy-Dirichlet target (MATH.md section 3).
enum class DistillMethod { kEnD, kEnD2, kEnD2Proxy };
DistillMethod parse_distill_method(const std::string& name);  ///< "end", "end2" or "end2-proxy"
const char* distill_method_name(DistillMethod method);
/// Whether the student is a Prior Network (its logits are Dirichlet log-concentrations).
inline bool is_dirichlet(DistillMethod method) { return method != DistillMethod::kEnD; }

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
  /// EnD^2: weight of an added EnD term (the Dirichlet mean's cross-entropy
  /// to the ensemble's mean), which the likelihood alone fits slowly.
  double mean_weight = 0;
  /// Whether that EnD term also covers the AUX inputs (rows from
  /// TransferViews::in_domain_rows on). Off, the AUX inputs teach only the
  /// Dirichlet's likelihood: their ensemble mean matters little and the
  /// term's weight took the students' attention from the spread there.
  bool mean_on_aux = true;
  double proxy_offset = 0;          ///< EnD^2 proxy: added to every target concentration
  double proxy_max_precision = 1e4;  ///< EnD^2 proxy: cap on the target precision beta_0
  double clip_norm = 10;    ///< 0 disables clipping
  bool float64_loss = false;
  uint64_t order_seed = 0;
  bool quiet = false;
  std::string label = "distill";  ///< names the progress line
  /// Data-parallel training (issue 20): every rank of the group takes its
  /// contiguous share of each batch, and the gradients are summed over the
  /// ranks before clipping and Adam, so every rank takes the step a single
  /// process takes on the whole batch (equal up to float rounding).
  Distributed* group = nullptr;
};

/// The transfer set as V views of the same N inputs (view 0 the inputs as they
/// are, the others e.g. augmented copies): inputs[v] is [N, D...] and
/// teacher_logits[v] [N, M, K], the teacher's outputs on exactly that view. An
/// epoch visits every input once, each in a view drawn at random, so a student
/// can train on augmented inputs with exact teacher targets for each.
struct TransferViews {
  std::vector<at::Tensor> inputs;
  std::vector<at::Tensor> teacher_logits;
  /// Rows [0, in_domain_rows) of every view are training inputs (and their
  /// copies), the rest AUX inputs; -1: all of them are training inputs.
  int64_t in_domain_rows = -1;
};

/// Trains one-member `student` on the transfer set against its teacher
/// logits. EnD^2 needs M >= 2 (one member has no spread to fit: the Dirichlet
/// likelihood has no finite optimum) and throws endd::Error otherwise.
/// The data order of epoch e comes from derive_seed(options.order_seed, e).
TrainingCurve distill(models::EnsembleNet& student, const TransferViews& transfer, const DistillOptions& options,
                      const TrainingHooks& hooks = {});

/// One view: `inputs` [N, D...] against `teacher_logits` [N, M, K].
TrainingCurve distill(models::EnsembleNet& student, const at::Tensor& inputs, const at::Tensor& teacher_logits,
                      const DistillOptions& options, const TrainingHooks& hooks = {});

}  // namespace endd::train
