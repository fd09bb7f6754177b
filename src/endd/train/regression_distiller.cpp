#include "endd/train/regression_distiller.h"

#include <ATen/ATen.h>

#include <chrono>
#include <cmath>
#include <cstdio>

#include "endd/core/error.h"
#include "endd/core/progress.h"
#include "endd/core/seeding.h"
#include "endd/distill/regression_losses.h"
#include "endd/models/regression_heads.h"
#include "endd/train/ensemble_trainer.h"
#include "endd/train/flat_adam.h"
#include "endd/train/gradient_clipping.h"

namespace endd::train {

TrainingCurve distill_regression(models::EnsembleNet& student, const at::Tensor& inputs,
                                 const at::Tensor& member_means, const at::Tensor& member_variances,
                                 const RegressionDistillOptions& o, const TrainingHooks& hooks) {
  const int64_t N = inputs.size(0);
  ENDD_CHECK(student.members() == 1, "a student must be a single network, got ", student.members(), " members");
  ENDD_CHECK(member_means.dim() == 2 && member_means.size(0) == N && member_variances.sizes() == member_means.sizes(),
             "teacher: expected members' means and variances [", N, ", M], got ", member_means.sizes(), " and ",
             member_variances.sizes());
  const int64_t outputs = o.method == RegressionMethod::kEnD ? 2 : 4;
  ENDD_CHECK(student.num_classes() == outputs, "a ", o.method == RegressionMethod::kEnD ? "EnD" : "EnD^2",
             " regression student has ", outputs, " outputs, got ", student.num_classes());
  ENDD_CHECK(o.method == RegressionMethod::kEnD || member_means.size(1) >= 2,
             "EnD^2 needs at least 2 members (one member has no spread to fit)");
  ENDD_CHECK(N >= 1 && o.epochs >= 1 && o.batch_size >= 1 && o.learning_rate > 0, "regression distillation needs "
             "inputs, epochs >= 1, batch_size >= 1 and learning_rate > 0");
  ENDD_CHECK(o.normal_gamma_fit == "likelihood" || o.normal_gamma_fit == "moments",
             "normal_gamma_fit: expected likelihood or moments, got '", o.normal_gamma_fit, "'");
  const bool by_moments = o.normal_gamma_fit == "moments";
  auto device = student.parameters().front().device();
  at::Tensor x = inputs.to(device);
  at::Tensor mu = member_means.to(device, at::kDouble), s2 = member_variances.to(device, at::kDouble);
  at::Tensor tau = 1.0 / s2;
  FlatAdam opt(student.parameters(), torch::optim::AdamOptions(o.learning_rate));
  student.train();
  const int64_t steps = (N + o.batch_size - 1) / o.batch_size;
  TrainingCurve curve;
  const int64_t first_epoch = hooks.resume ? hooks.resume(opt, curve) : 0;
  Progress progress(o.label, o.epochs, "epochs", o.quiet);
  for (int64_t epoch = first_epoch; epoch < o.epochs; ++epoch) {
    auto start = std::chrono::steady_clock::now();
    const double lr = scheduled_learning_rate(o.learning_rate, epoch, o.epochs, o.cosine_schedule);
    set_learning_rate(opt, lr);
    at::Generator order = cpu_generator(derive_seed(o.order_seed, static_cast<uint64_t>(epoch)));
    at::Tensor perm = at::randperm(N, order, at::kLong).to(device);
    double loss_sum = 0;
    for (int64_t s = 0; s < steps; ++s) {
      at::Tensor idx = perm.slice(0, s * o.batch_size, std::min(N, (s + 1) * o.batch_size));
      at::Tensor z = student.forward(x.index_select(0, idx)).squeeze(0).to(at::kDouble);  // [b, outputs]
      at::Tensor loss;
      if (o.method == RegressionMethod::kEnD) {
        models::GaussianHead h = models::gaussian_head(z);
        loss = distill::gaussian_end_loss(h.mean, h.variance, mu.index_select(0, idx), s2.index_select(0, idx));
      } else {
        models::NormalGammaHead h = models::normal_gamma_head(z, o.normal_gamma_link);
        loss = by_moments ? distill::normal_gamma_moment_loss(h.m, h.kappa, h.alpha, h.beta,
                                                              mu.index_select(0, idx), tau.index_select(0, idx))
                          : distill::normal_gamma_nll(h.m, h.kappa, h.alpha, h.beta, mu.index_select(0, idx),
                                                      tau.index_select(0, idx));
      }
      opt.zero_grad();
      loss.backward();
      if (o.clip_norm > 0) clip_gradients_({opt.gradient()}, o.clip_norm);
      opt.step();
      loss_sum += loss.item<double>() * double(idx.size(0));
    }
    const double mean_loss = loss_sum / double(N);
    ENDD_CHECK(std::isfinite(mean_loss), o.label, ": loss became non-finite at epoch ", epoch + 1,
               "; try a lower learning rate");
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    curve.push_back({epoch, mean_loss, 1.0, lr, secs});
    char status[48];
    std::snprintf(status, sizeof status, "loss %.4f", mean_loss);
    progress.update(epoch + 1, status);
    if (hooks.after_epoch) hooks.after_epoch(curve, opt);
  }
  progress.finish();
  return curve;
}

}  // namespace endd::train
