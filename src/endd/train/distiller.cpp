#include "endd/train/distiller.h"

#include <ATen/ATen.h>
#include <torch/nn/utils/clip_grad.h>
#include <torch/optim/adam.h>

#include <chrono>
#include <cstdio>

#include "endd/core/error.h"
#include "endd/core/progress.h"
#include "endd/core/seeding.h"
#include "endd/distill/losses.h"
#include "endd/distill/teacher_statistics.h"
#include "endd/distill/temperature_schedule.h"

namespace endd::train {

DistillMethod parse_distill_method(const std::string& name) {
  if (name == "end") return DistillMethod::kEnD;
  if (name == "end2") return DistillMethod::kEnD2;
  throw Error("distillation method: expected end or end2, got '" + name + "'");
}

TrainingCurve distill(models::EnsembleNet& student, const at::Tensor& inputs, const at::Tensor& teacher_logits,
                      const DistillOptions& o, const TrainingHooks& hooks) {
  const int64_t N = inputs.size(0);
  ENDD_CHECK(student.members() == 1, "a student must be a single network, got ", student.members(), " members");
  ENDD_CHECK(teacher_logits.dim() == 3 && teacher_logits.size(0) == N, "teacher logits must be [", N,
             ", M, K], got ", teacher_logits.sizes());
  ENDD_CHECK(teacher_logits.size(2) == student.num_classes(), "teacher has ", teacher_logits.size(2),
             " classes but the student has ", student.num_classes());
  ENDD_CHECK(o.method != DistillMethod::kEnD2 || teacher_logits.size(1) >= 2,
             "EnD^2 needs an ensemble of at least 2 members (one member has no spread for a Dirichlet "
             "to fit); use EnD for a single teacher");
  ENDD_CHECK(N >= 1, "transfer set is empty");
  ENDD_CHECK(o.epochs >= 1 && o.batch_size >= 1 && o.learning_rate > 0, "distillation needs epochs >= 1, "
             "batch_size >= 1 and learning_rate > 0");
  distill::TemperatureSchedule schedule(o.initial_temperature, o.epochs, o.hold_fraction, o.decay_fraction);
  auto device = student.parameters().front().device();
  at::Tensor x = inputs.to(device), teacher = teacher_logits.to(device);
  torch::optim::Adam opt(student.parameters(),
                         torch::optim::AdamOptions(o.learning_rate).weight_decay(o.weight_decay));
  student.train();
  const int64_t steps = (N + o.batch_size - 1) / o.batch_size;
  TrainingCurve curve;
  const int64_t first_epoch = hooks.resume ? hooks.resume(opt, curve) : 0;
  Progress progress(o.label, o.epochs, "epochs", o.quiet);
  at::Tensor targets;
  double targets_temperature = 0;
  for (int64_t epoch = first_epoch; epoch < o.epochs; ++epoch) {
    auto start = std::chrono::steady_clock::now();
    const double T = schedule.at(epoch);
    double lr = scheduled_learning_rate(o.learning_rate, epoch, o.epochs, o.cosine_schedule);
    set_learning_rate(opt, lr);
    // Teacher targets depend only on T, so they are computed once per value of
    // T: over every member of every input they cost more than an epoch of
    // steps, and T only changes during the decay phase.
    if (!targets.defined() || T != targets_temperature) {
      targets = o.method == DistillMethod::kEnD ? distill::teacher_mean_probs(teacher, T)
                                                 : distill::teacher_mean_log_probs(teacher, T, o.smoothing);
      if (!o.float64_loss) targets = targets.to(at::kFloat);
      targets_temperature = T;
    }
    at::Generator order = cpu_generator(derive_seed(o.order_seed, static_cast<uint64_t>(epoch)));
    at::Tensor perm = at::randperm(N, order, at::kLong).to(device);
    at::Tensor loss_sum = at::zeros({}, x.options().dtype(at::kDouble));
    for (int64_t s = 0; s < steps; ++s) {
      at::Tensor idx = perm.slice(0, s * o.batch_size, std::min(N, (s + 1) * o.batch_size));
      at::Tensor z = student.forward(x.index_select(0, idx)).squeeze(0);  // [b, K]
      at::Tensor target = targets.index_select(0, idx);
      at::Tensor loss = o.method == DistillMethod::kEnD ? distill::end_loss(z, target, T, o.float64_loss)
                                                        : distill::end2_loss(z, target, T, o.float64_loss);
      opt.zero_grad();
      loss.backward();
      if (o.clip_norm > 0) torch::nn::utils::clip_grad_norm_(student.parameters(), o.clip_norm);
      opt.step();
      loss_sum += loss.detach().to(at::kDouble) * double(idx.size(0));
    }
    double mean_loss = loss_sum.item<double>() / double(N);
    ENDD_CHECK(std::isfinite(mean_loss), o.label, ": loss became non-finite at epoch ", epoch + 1,
               " (T = ", T, "); try a lower learning rate or --float64-loss");
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    curve.push_back({epoch, mean_loss, T, lr, secs});
    char status[64];
    std::snprintf(status, sizeof status, "loss %.4f T %.2f", mean_loss, T);
    progress.update(epoch + 1, status);
    if (hooks.after_epoch) hooks.after_epoch(curve, opt);
  }
  progress.finish();
  return curve;
}

}  // namespace endd::train
