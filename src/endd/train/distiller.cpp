#include "endd/train/distiller.h"

#include <ATen/ATen.h>

#include <chrono>
#include <cstdio>

#include "endd/core/error.h"
#include "endd/core/progress.h"
#include "endd/core/seeding.h"
#include "endd/distill/losses.h"
#include "endd/distill/teacher_statistics.h"
#include "endd/distill/temperature_schedule.h"
#include "endd/models/mlp_ensemble.h"
#include "endd/train/flat_adam.h"
#include "endd/train/gradient_clipping.h"

namespace endd::train {

DistillMethod parse_distill_method(const std::string& name) {
  if (name == "end") return DistillMethod::kEnD;
  if (name == "end2") return DistillMethod::kEnD2;
  if (name == "end2-proxy") return DistillMethod::kEnD2Proxy;
  throw Error("distillation method: expected end, end2 or end2-proxy, got '" + name + "'");
}

const char* distill_method_name(DistillMethod method) {
  switch (method) {
    case DistillMethod::kEnD: return "end";
    case DistillMethod::kEnD2: return "end2";
    case DistillMethod::kEnD2Proxy: return "end2-proxy";
  }
  return "?";
}

namespace {

// What each method's loss needs from the teacher at temperature T, [N, K];
// rows from `in_domain_rows` on are AUX inputs.
at::Tensor teacher_targets(const at::Tensor& teacher_logits, double T, int64_t in_domain_rows,
                           const DistillOptions& o) {
  switch (o.method) {
    case DistillMethod::kEnD: return distill::teacher_mean_probs(teacher_logits, T);
    case DistillMethod::kEnD2: {
      at::Tensor stat = distill::teacher_mean_log_probs(teacher_logits, T, o.smoothing);
      if (o.mean_weight == 0) return stat;
      at::Tensor mean = distill::teacher_mean_probs(teacher_logits, T).to(stat.scalar_type());
      // A zero target leaves the EnD term out for that input (losses.h).
      if (!o.mean_on_aux && in_domain_rows >= 0) mean.slice(0, in_domain_rows).zero_();
      return at::cat({stat, mean}, 1);  // [N, 2K]
    }
    case DistillMethod::kEnD2Proxy:
      return distill::teacher_proxy_dirichlet(teacher_logits, T, o.smoothing, o.proxy_offset, o.proxy_max_precision);
  }
  throw Error("unknown distillation method");
}

at::Tensor student_loss(const at::Tensor& z, const at::Tensor& target, double T, const DistillOptions& o) {
  switch (o.method) {
    case DistillMethod::kEnD: return distill::end_loss(z, target, T, o.float64_loss);
    case DistillMethod::kEnD2: {
      if (o.mean_weight == 0) return distill::end2_loss(z, target, T, o.float64_loss);
      const int64_t K = z.size(1);
      return distill::end2_loss(z, target.slice(1, 0, K), T, o.float64_loss) +
             o.mean_weight * distill::end_loss(z, target.slice(1, K, 2 * K), T, o.float64_loss);
    }
    // The proxy target is annealed (computed from the teacher at T) but the
    // student is not divided by T: exp(z / T) moves by orders of magnitude as
    // T falls, and the reverse KL's unbounded gradient then wrecked training
    // (docs/distillation.md).
    case DistillMethod::kEnD2Proxy: return distill::end2_proxy_loss(z, target, 1.0, o.float64_loss);
  }
  throw Error("unknown distillation method");
}

// student_loss() with its gradient in z, outside autograd (the taped step).
distill::LossAndGradient student_loss_and_gradient(const at::Tensor& z, const at::Tensor& target, double T,
                                                   const DistillOptions& o) {
  switch (o.method) {
    case DistillMethod::kEnD: return distill::end_loss_and_gradient(z, target, T, o.float64_loss);
    case DistillMethod::kEnD2: {
      if (o.mean_weight == 0) return distill::end2_loss_and_gradient(z, target, T, o.float64_loss);
      const int64_t K = z.size(1);
      auto nll = distill::end2_loss_and_gradient(z, target.slice(1, 0, K), T, o.float64_loss);
      auto mean = distill::end_loss_and_gradient(z, target.slice(1, K, 2 * K), T, o.float64_loss);
      return {nll.loss + o.mean_weight * mean.loss, nll.gradient + o.mean_weight * mean.gradient};
    }
    case DistillMethod::kEnD2Proxy: return distill::end2_proxy_loss_and_gradient(z, target, 1.0, o.float64_loss);
  }
  throw Error("unknown distillation method");
}

}  // namespace

TrainingCurve distill(models::EnsembleNet& student, const at::Tensor& inputs, const at::Tensor& teacher_logits,
                      const DistillOptions& o, const TrainingHooks& hooks) {
  return distill(student, TransferViews{{inputs}, {teacher_logits}}, o, hooks);
}

TrainingCurve distill(models::EnsembleNet& student, const TransferViews& transfer, const DistillOptions& o,
                      const TrainingHooks& hooks) {
  const int64_t V = static_cast<int64_t>(transfer.inputs.size());
  ENDD_CHECK(V >= 1 && transfer.teacher_logits.size() == transfer.inputs.size(),
             "transfer set: expected one teacher-logit tensor per view, got ", transfer.inputs.size(), " views and ",
             transfer.teacher_logits.size(), " teacher tensors");
  const int64_t N = transfer.inputs.front().size(0);
  ENDD_CHECK(student.members() == 1, "a student must be a single network, got ", student.members(), " members");
  for (int64_t v = 0; v < V; ++v) {
    const at::Tensor& inputs = transfer.inputs[v];
    const at::Tensor& teacher_logits = transfer.teacher_logits[v];
    ENDD_CHECK(inputs.sizes() == transfer.inputs.front().sizes(), "transfer view ", v,
               " has inputs ", inputs.sizes(), " but view 0 has ", transfer.inputs.front().sizes());
    ENDD_CHECK(teacher_logits.dim() == 3 && teacher_logits.size(0) == N, "teacher logits must be [", N,
               ", M, K], got ", teacher_logits.sizes());
    ENDD_CHECK(teacher_logits.size(2) == student.num_classes(), "teacher has ", teacher_logits.size(2),
               " classes but the student has ", student.num_classes());
    ENDD_CHECK(!is_dirichlet(o.method) || teacher_logits.size(1) >= 2,
               "EnD^2 needs an ensemble of at least 2 members (one member has no spread for a Dirichlet "
               "to fit); use EnD for a single teacher");
  }
  ENDD_CHECK(N >= 1, "transfer set is empty");
  ENDD_CHECK(transfer.in_domain_rows <= N, "transfer set: ", transfer.in_domain_rows,
             " training inputs stated, but it holds only ", N, " inputs");
  ENDD_CHECK(o.epochs >= 1 && o.batch_size >= 1 && o.learning_rate > 0, "distillation needs epochs >= 1, "
             "batch_size >= 1 and learning_rate > 0");
  distill::TemperatureSchedule schedule(o.initial_temperature, o.epochs, o.hold_fraction, o.decay_fraction);
  auto device = student.parameters().front().device();
  std::vector<at::Tensor> x, teacher, targets(V);
  for (int64_t v = 0; v < V; ++v) {
    x.push_back(transfer.inputs[v].to(device));
    teacher.push_back(transfer.teacher_logits[v].to(device));
  }
  FlatAdam opt(student.parameters(), torch::optim::AdamOptions(o.learning_rate).weight_decay(o.weight_decay));
  // MLP students step without autograd (models/mlp_ensemble.h): the same
  // gradients at about half the overhead.
  auto* taped = dynamic_cast<models::MlpEnsemble*>(&student);
  if (taped && !taped->has_taped_backward()) taped = nullptr;
  student.train();
  const int64_t steps = (N + o.batch_size - 1) / o.batch_size;
  TrainingCurve curve;
  const int64_t first_epoch = hooks.resume ? hooks.resume(opt, curve) : 0;
  Progress progress(o.label, o.epochs, "epochs", o.quiet);
  double targets_temperature = 0;
  for (int64_t epoch = first_epoch; epoch < o.epochs; ++epoch) {
    auto start = std::chrono::steady_clock::now();
    const double T = schedule.at(epoch);
    double lr = scheduled_learning_rate(o.learning_rate, epoch, o.epochs, o.cosine_schedule);
    set_learning_rate(opt, lr);
    // Teacher targets depend only on T, so they are computed once per value of
    // T: over every member of every input they cost more than an epoch of
    // steps, and T only changes during the decay phase.
    if (!targets.front().defined() || T != targets_temperature) {
      for (int64_t v = 0; v < V; ++v) {
        targets[v] = teacher_targets(teacher[v], T, transfer.in_domain_rows, o);
        if (!o.float64_loss) targets[v] = targets[v].to(at::kFloat);
      }
      targets_temperature = T;
    }
    at::Generator order = cpu_generator(derive_seed(o.order_seed, static_cast<uint64_t>(epoch)));
    at::Tensor perm = at::randperm(N, order, at::kLong).to(device);
    // Drawn only with several views, so one view keeps the old data order.
    at::Tensor view = V > 1 ? at::randint(V, {N}, order, at::kLong).to(device) : at::Tensor();
    at::Tensor loss_sum = at::zeros({}, x.front().options().dtype(at::kDouble));
    for (int64_t s = 0; s < steps; ++s) {
      at::Tensor idx = perm.slice(0, s * o.batch_size, std::min(N, (s + 1) * o.batch_size));
      const int64_t whole = idx.size(0);
      if (o.group) {  // this rank's share of the batch
        auto [begin, end] = rank_block(whole, o.group->rank(), o.group->world());
        idx = idx.slice(0, begin, end);
      }
      if (idx.size(0) == 0) {  // a batch smaller than the group: nothing here, the others' gradients count
        opt.zero_grad();
        std::vector<at::Tensor> grads{opt.gradient()};
        o.group->all_reduce_sum(grads, "summing the student's gradients");
        if (o.clip_norm > 0) clip_gradients_({opt.gradient()}, o.clip_norm);
        opt.step();
        continue;
      }
      at::Tensor batch, target;
      if (V == 1) {
        batch = x.front().index_select(0, idx);
        target = targets.front().index_select(0, idx);
      } else {
        at::Tensor batch_views = view.index_select(0, idx);
        std::vector<at::Tensor> xs, ts;
        for (int64_t v = 0; v < V; ++v) {
          at::Tensor in_view = idx.masked_select(batch_views == v);
          xs.push_back(x[v].index_select(0, in_view));
          ts.push_back(targets[v].index_select(0, in_view));
        }
        batch = at::cat(xs);
        target = at::cat(ts);
      }
      student.set_noise_seeds({derive_seed(derive_seed(o.order_seed, Stream::kDropout),
                                           static_cast<uint64_t>(epoch) * 1000003ULL + static_cast<uint64_t>(s))});
      // The shard's mean weighted by its share: summed over the ranks, the
      // gradient of the whole batch's mean.
      const double share = double(idx.size(0)) / double(whole);
      at::Tensor loss;
      if (taped) {
        models::MlpEnsemble::Tape tape;
        at::Tensor z = taped->forward_taped(batch, tape).squeeze(0);  // [b, K]
        distill::LossAndGradient l = student_loss_and_gradient(z, target, T, o);
        loss = l.loss;
        opt.zero_grad();
        taped->backward_taped(tape, (o.group ? l.gradient * share : l.gradient).unsqueeze(0));
      } else {
        at::Tensor z = student.forward(batch).squeeze(0);  // [b, K]
        loss = student_loss(z, target, T, o);
        opt.zero_grad();
        (o.group ? loss * share : loss).backward();
      }
      if (o.group) {
        std::vector<at::Tensor> grads{opt.gradient()};  // one bucket: every parameter's gradient
        o.group->all_reduce_sum(grads, "summing the student's gradients");
      }
      if (o.clip_norm > 0) clip_gradients_({opt.gradient()}, o.clip_norm);
      opt.step();
      loss_sum += loss.detach().to(at::kDouble) * double(idx.size(0));
    }
    if (o.group) {  // the epoch's loss over the whole transfer set, the same on every rank
      std::vector<at::Tensor> sum{loss_sum.cpu().reshape({1})};
      o.group->all_reduce_sum(sum, "summing the epoch's loss");
      loss_sum = sum[0].reshape({});
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
