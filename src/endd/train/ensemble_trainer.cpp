#include "endd/train/ensemble_trainer.h"

#include <ATen/ATen.h>
#include <torch/csrc/autograd/grad_mode.h>
#include <torch/optim/adam.h>

#include <chrono>
#include <cmath>
#include <cstdio>

#include "endd/core/error.h"
#include "endd/core/progress.h"
#include "endd/core/seeding.h"
#include "endd/distill/regression_losses.h"
#include "endd/models/mlp_ensemble.h"
#include "endd/models/regression_heads.h"
#include "endd/train/flat_adam.h"

namespace endd::train {

double scheduled_learning_rate(double base, int64_t epoch, int64_t epochs, bool cosine) {
  if (!cosine || epochs <= 1) return base;
  double t = double(epoch) / double(epochs - 1);
  return base * (0.05 + 0.95 * 0.5 * (1.0 + std::cos(M_PI * t)));
}

void set_learning_rate(torch::optim::Optimizer& opt, double lr) {
  for (auto& group : opt.param_groups()) static_cast<torch::optim::AdamOptions&>(group.options()).lr(lr);
}

namespace {

// Gaussian members: the ensemble's validation RMSE (in `val_error`, target
// units as trained) and mixture NLL into `log`; returns each member's NLL [M].
at::Tensor validate_gaussian(const at::Tensor& outputs, const at::Tensor& y, EpochLog& log) {
  models::GaussianHead h = models::gaussian_head(outputs.to(at::kDouble));  // [M, V]
  at::Tensor target = y.to(at::kDouble).unsqueeze(0);
  at::Tensor log_density = -0.5 * (at::log(2 * M_PI * h.variance) + (target - h.mean).pow(2) / h.variance);
  const double M = double(h.mean.size(0));
  log.val_nll = -(at::logsumexp(log_density, 0) - std::log(M)).mean().item<double>();
  log.val_error = (h.mean.mean(0) - target.squeeze(0)).pow(2).mean().sqrt().item<double>();
  return -log_density.mean(1);
}

// The ensemble's validation error and NLL into `log`; returns each member's NLL [M].
at::Tensor validate(models::EnsembleNet& net, const at::Tensor& x, const at::Tensor& y, Objective objective,
                    EpochLog& log) {
  torch::NoGradGuard no_grad;
  net.eval();
  at::Tensor outputs = net.forward(x);
  net.train();
  if (objective == Objective::kGaussianNll) return validate_gaussian(outputs, y, log);
  at::Tensor log_probs = at::log_softmax(outputs.to(at::kDouble), -1);  // [M, V, K]
  const int64_t M = log_probs.size(0);
  at::Tensor target = y.view({1, -1, 1}).expand({M, y.size(0), 1});
  at::Tensor member_nll = -log_probs.gather(2, target).squeeze(2).mean(1);  // [M]
  at::Tensor ensemble_log = at::logsumexp(log_probs, 0) - std::log(double(M));  // [V, K]
  log.val_nll = -ensemble_log.gather(1, y.view({-1, 1})).mean().item<double>();
  log.val_error = 100.0 * ensemble_log.argmax(1).ne(y).to(at::kDouble).mean().item<double>();
  return member_nll;
}

}  // namespace

TrainingCurve train_ensemble(models::EnsembleNet& net, const at::Tensor& inputs, const at::Tensor& labels,
                             const std::vector<uint64_t>& order_seeds, const EnsembleTrainOptions& o,
                             const TrainingHooks& hooks) {
  const int64_t M = net.members();
  const int64_t N = inputs.size(0);
  ENDD_CHECK(static_cast<int64_t>(order_seeds.size()) == M, "need one data-order seed per member");
  ENDD_CHECK(labels.dim() == 1 && labels.size(0) == N, "labels must be [", N, "], got ", labels.sizes());
  ENDD_CHECK(o.epochs >= 1 && o.batch_size >= 1 && o.learning_rate > 0, "training needs epochs >= 1, "
             "batch_size >= 1 and learning_rate > 0");
  ENDD_CHECK(N >= 1, "training set is empty");
  auto device = net.parameters().front().device();
  at::Tensor x = inputs.to(device), y = labels.to(device);
  // One flat buffer for the members' parameters, gradients and moments
  // (flat_adam.h): on the CPU a step is one pass over it.
  FlatAdam opt(net.parameters(), torch::optim::AdamOptions(o.learning_rate).weight_decay(o.weight_decay));
  at::Tensor val_x, val_y;
  if (o.val_inputs.defined() && o.val_inputs.size(0) > 0) {
    ENDD_CHECK(o.val_labels.defined() && o.val_labels.size(0) == o.val_inputs.size(0), "validation labels must be [",
               o.val_inputs.size(0), "]");
    val_x = o.val_inputs.to(device);
    val_y = o.val_labels.to(device);
    if (o.best && o.best->empty()) o.best->reset(net);
  }
  net.train();
  // An MLP classifier on the CPU steps member after member, each member's
  // whole pass in cache (mlp_ensemble.h); other nets through autograd.
  auto* member_major = dynamic_cast<models::MlpEnsemble*>(&net);
  if (!member_major || o.objective != Objective::kCrossEntropy || !member_major->has_member_major_step())
    member_major = nullptr;
  const int64_t steps = (N + o.batch_size - 1) / o.batch_size;
  TrainingCurve curve;
  const int64_t first_epoch = hooks.resume ? hooks.resume(opt, curve) : 0;
  opt.bind_state();  // a resume hook may have put new state objects in place (ensemble_shards.cpp)
  // A resumed run that had already stopped early does not train on.
  if (o.best && o.patience > 0 && first_epoch > 0 && o.best->all_stopped(first_epoch - 1, o.patience)) return curve;
  Progress progress(o.label.empty() ? "train " + std::to_string(M) + " members" : o.label, o.epochs, "epochs",
                    o.quiet);
  for (int64_t epoch = first_epoch; epoch < o.epochs; ++epoch) {
    auto start = std::chrono::steady_clock::now();
    double lr = scheduled_learning_rate(o.learning_rate, epoch, o.epochs, o.cosine_schedule);
    set_learning_rate(opt, lr);
    std::vector<at::Tensor> perms;
    for (auto seed : order_seeds) {
      at::Generator g = cpu_generator(derive_seed(seed, static_cast<uint64_t>(epoch)));
      perms.push_back(at::randperm(N, g, at::kLong));
    }
    at::Tensor perm = at::stack(perms).to(device);  // [M, N]
    at::Tensor loss_sum = at::zeros({}, x.options().dtype(at::kDouble));
    double member_major_loss_sum = 0;
    for (int64_t s = 0; s < steps; ++s) {
      at::Tensor idx = perm.slice(1, s * o.batch_size, std::min(N, (s + 1) * o.batch_size));
      const int64_t b = idx.size(1);
      std::vector<int64_t> shape{M, b};
      for (int64_t d = 1; d < x.dim(); ++d) shape.push_back(x.size(d));
      at::Tensor xb = x.index_select(0, idx.flatten()).view(shape);
      // Each member's draws (augmentation, dropout) come from its own seed, so
      // a member trains the same whichever members share its graph.
      const uint64_t stream = static_cast<uint64_t>(epoch) * 1000003ULL + static_cast<uint64_t>(s);
      std::vector<uint64_t> noise;
      for (auto seed : order_seeds) noise.push_back(derive_seed(derive_seed(seed, Stream::kDropout), stream));
      net.set_noise_seeds(noise);
      if (o.augment) {
        std::vector<at::Tensor> parts;
        for (int64_t m = 0; m < M; ++m)
          parts.push_back(o.augment(xb.slice(0, m, m + 1), derive_seed(order_seeds[static_cast<size_t>(m)], stream)));
        xb = at::cat(parts, 0);
      }
      at::Tensor yb = idx.flatten();
      yb = y.index_select(0, yb);
      if (member_major) {  // every gradient overwritten: no zero_grad
        const double loss = member_major->cross_entropy_gradients(xb, yb);
        opt.step();
        member_major_loss_sum += loss * double(b);
        continue;
      }
      at::Tensor logits = net.forward(xb);  // [M, b, K]
      at::Tensor loss;
      if (o.objective == Objective::kGaussianNll) {  // the sum over members of each one's mean NLL
        models::GaussianHead h = models::gaussian_head(logits.flatten(0, 1));
        loss = distill::gaussian_nll(h.mean, h.variance, yb.to(h.mean.scalar_type())) * double(M);
      } else {
        loss = at::cross_entropy_loss(logits.flatten(0, 1), yb, {}, at::Reduction::Sum) / double(b);
      }
      opt.zero_grad();
      loss.backward();
      opt.step();
      loss_sum += loss.detach() * double(b);
    }
    double mean_loss = (loss_sum.item<double>() + member_major_loss_sum) / double(N) / double(M);
    EpochLog log{epoch, mean_loss, 1.0, lr, 0.0};
    char status[96];
    std::snprintf(status, sizeof status, "loss %.4f", mean_loss);
    if (val_x.defined()) {
      at::Tensor member_nll = validate(net, val_x, val_y, o.objective, log);
      if (o.objective == Objective::kGaussianNll)
        std::snprintf(status, sizeof status, "loss %.4f  val RMSE %.4f NLL %.4f", mean_loss, log.val_error, log.val_nll);
      else
        std::snprintf(status, sizeof status, "loss %.4f  val error %.2f%% NLL %.4f", mean_loss, log.val_error,
                      log.val_nll);
      if (o.best) o.best->update(net, member_nll, epoch);
    }
    log.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    curve.push_back(log);
    progress.update(epoch + 1, status);
    if (hooks.after_epoch) hooks.after_epoch(curve, opt);
    if (o.best && o.patience > 0 && o.best->all_stopped(epoch, o.patience)) break;
  }
  progress.finish();
  return curve;
}

}  // namespace endd::train
