// Cost of one student (EnD^2) distillation step on the spiral MLP, and of its
// parts: the step is dominated by per-operation overhead, not arithmetic, so
// each part is timed by switching it off.
#include <ATen/ATen.h>
#include <benchmark/benchmark.h>
#include <torch/nn/utils/clip_grad.h>
#include <torch/optim/adam.h>

#include <memory>

#include "endd/core/runtime.h"
#include "endd/distill/losses.h"
#include "endd/distill/teacher_statistics.h"
#include "endd/models/mlp_ensemble.h"
#include "endd/train/flat_adam.h"
#include "endd/train/gradient_clipping.h"

namespace {

// kFull: a step through autograd with FlatAdam and one flat clipping norm;
// kProxyLoss: the full step with the Proxy-Dirichlet loss (end2-proxy) instead;
// kTorchClip: with LibTorch's clip_grad_norm_ (host sync) instead of endd's;
// kTorchAdam: the step before FlatAdam (torch::optim::Adam, clipping per
// parameter tensor), side by side with kFull (issue 21); kTaped: the
// product's step (train/distiller.cpp), kFull without autograd
// (MlpEnsemble::forward_taped / backward_taped).
enum Variant : int64_t {
  kFull = 0, kNoClip = 1, kFloat32Loss = 2, kNoOptimizer = 3, kForwardOnly = 4, kTrivialLoss = 5, kProxyLoss = 6,
  kTorchClip = 7, kTorchAdam = 8, kTaped = 9
};

// The optimiser's part of a step: zero, (clip), step.
template <typename Optimizer, typename Clip>
void run_steps(benchmark::State& state, endd::models::MlpEnsemble& student, Optimizer& opt, Clip clip) {
  const auto variant = static_cast<Variant>(state.range(0));
  const int64_t B = 128;
  at::Tensor x = at::randn({1, B, 2});
  at::Tensor target = at::log_softmax(at::randn({B, 3}, at::kDouble), -1);
  at::Tensor proxy_target = at::softmax(at::randn({B, 3}, at::kDouble), -1) * 100;
  const double T = 2.0;
  for (auto _ : state) {
    if (variant == kTaped) {
      endd::models::MlpEnsemble::Tape tape;
      at::Tensor z = student.forward_taped(x, tape).squeeze(0);
      auto loss = endd::distill::end2_loss_and_gradient(z, target, T, true);
      opt.zero_grad();
      student.backward_taped(tape, loss.gradient.unsqueeze(0));
      clip();
      opt.step();
      continue;
    }
    at::Tensor z = student.forward(x).squeeze(0);
    at::Tensor loss = variant == kTrivialLoss ? z.square().mean()
                      : variant == kProxyLoss ? endd::distill::end2_proxy_loss(z, proxy_target, 1.0, true)
                                              : endd::distill::end2_loss(z, target, T, variant != kFloat32Loss);
    if (variant == kForwardOnly) {
      benchmark::DoNotOptimize(loss.item<double>());
      continue;
    }
    opt.zero_grad();
    loss.backward();
    if (variant == kTorchClip)
      torch::nn::utils::clip_grad_norm_(student.parameters(), 10.0);
    else if (variant != kNoClip && variant != kNoOptimizer)
      clip();
    if (variant != kNoOptimizer) opt.step();
  }
  state.counters["steps_per_s"] = benchmark::Counter(double(state.iterations()), benchmark::Counter::kIsRate);
}

void BM_StudentStep(benchmark::State& state) {
  endd::configure_threads(1);
  endd::models::MlpEnsemble student(endd::models::MlpOptions(2, 3).hidden_layers(3).width(64), {1});
  if (state.range(0) == kTorchAdam) {
    torch::optim::Adam opt(student.parameters(), torch::optim::AdamOptions(1e-2));
    run_steps(state, student, opt, [&] { endd::train::clip_gradient_norm_(student.parameters(), 10.0); });
  } else {  // as the product steps
    endd::train::FlatAdam opt(student.parameters(), torch::optim::AdamOptions(1e-2));
    run_steps(state, student, opt, [&] { endd::train::clip_gradients_({opt.gradient()}, 10.0); });
  }
}
BENCHMARK(BM_StudentStep)->DenseRange(0, 9)->Unit(benchmark::kMicrosecond)->UseRealTime();

// The optimiser's part alone on the spiral student's gradients: 0 Adam
// step (torch::optim::Adam), 1 FlatAdam step, 2 clipping per parameter
// tensor, 3 clipping FlatAdam's one flat gradient.
void BM_OptimiserPart(benchmark::State& state) {
  endd::configure_threads(1);
  endd::models::MlpEnsemble student(endd::models::MlpOptions(2, 3).hidden_layers(3).width(64), {1});
  student.forward(at::randn({1, 128, 2})).square().mean().backward();
  if (state.range(0) == 0) {
    torch::optim::Adam opt(student.parameters(), torch::optim::AdamOptions(1e-2));
    for (auto _ : state) opt.step();
  } else if (state.range(0) == 2) {
    for (auto _ : state) endd::train::clip_gradient_norm_(student.parameters(), 10.0);
  } else {
    endd::train::FlatAdam opt(student.parameters(), torch::optim::AdamOptions(1e-2));
    for (auto _ : state) {
      if (state.range(0) == 1) opt.step();
      else endd::train::clip_gradients_({opt.gradient()}, 10.0);
    }
  }
}
BENCHMARK(BM_OptimiserPart)->DenseRange(0, 3)->Unit(benchmark::kMicrosecond)->UseRealTime();

// Issue 21, deliverable 2 on the CPU: the spiral's three students (EnD^2
// losses, batch 128) for one step each, 0 as three networks one after
// another (the product's taped step each, as a lane runs them), 1 as one
// three-member network: one taped pass, each student's loss on its slice,
// clipping per student, one FlatAdam step. One thread; time per round of
// three student steps.
void BM_ThreeStudents(benchmark::State& state) {
  endd::configure_threads(1);
  const int64_t S = 3, B = 128;
  const auto opts = endd::models::MlpOptions(2, 3).hidden_layers(3).width(64);
  at::Tensor x = at::randn({S, B, 2});
  at::Tensor targets = at::log_softmax(at::randn({S, B, 3}, at::kDouble), -1);
  const double T = 2.0;
  if (state.range(0) == 0) {
    std::vector<std::unique_ptr<endd::models::MlpEnsemble>> students;
    std::vector<std::unique_ptr<endd::train::FlatAdam>> optimisers;
    for (int64_t s = 0; s < S; ++s) {
      students.push_back(std::make_unique<endd::models::MlpEnsemble>(opts, std::vector<uint64_t>{uint64_t(s + 1)}));
      optimisers.push_back(std::make_unique<endd::train::FlatAdam>(students.back()->parameters(),
                                                             torch::optim::AdamOptions(1e-2)));
    }
    for (auto _ : state) {
      for (int64_t s = 0; s < S; ++s) {
        endd::models::MlpEnsemble::Tape tape;
        at::Tensor z = students[s]->forward_taped(x.slice(0, s, s + 1), tape).squeeze(0);
        auto loss = endd::distill::end2_loss_and_gradient(z, targets[s], T, true);
        optimisers[s]->zero_grad();
        students[s]->backward_taped(tape, loss.gradient.unsqueeze(0));
        endd::train::clip_gradients_({optimisers[s]->gradient()}, 10.0);
        optimisers[s]->step();
      }
    }
  } else {
    endd::models::MlpEnsemble students(opts, {1, 2, 3});
    endd::train::FlatAdam opt(students.parameters(), torch::optim::AdamOptions(1e-2));
    for (auto _ : state) {
      endd::models::MlpEnsemble::Tape tape;
      at::Tensor z = students.forward_taped(x, tape);  // [S, B, K]
      std::vector<at::Tensor> grads;
      for (int64_t s = 0; s < S; ++s)
        grads.push_back(endd::distill::end2_loss_and_gradient(z[s], targets[s], T, true).gradient);
      opt.zero_grad();
      students.backward_taped(tape, at::stack(grads));
      // Each student's own gradient norm: parameters are [S, ...].
      at::Tensor squares = at::zeros({S});
      for (const auto& p : students.parameters()) squares += p.grad().square().flatten(1).sum(1);
      at::Tensor scale = (10.0 / (squares.sqrt() + 1e-6)).clamp_max(1.0);
      for (auto& p : students.parameters()) p.mutable_grad().mul_(scale.view({S, 1, 1}));
      opt.step();
    }
  }
  state.counters["student_steps_per_s"] =
      benchmark::Counter(double(state.iterations() * S), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_ThreeStudents)->DenseRange(0, 1)->Unit(benchmark::kMicrosecond)->UseRealTime();

// Teacher statistic for a whole transfer set at one temperature: the spiral's
// 15,000 transfer inputs x 100 members x 3 classes.
void BM_TeacherMeanLogProbs(benchmark::State& state) {
  endd::configure_threads(1);
  at::Tensor teacher = at::randn({state.range(0), 100, 3});
  for (auto _ : state) benchmark::DoNotOptimize(endd::distill::teacher_mean_log_probs(teacher, 2.0, 1e-6));
}
BENCHMARK(BM_TeacherMeanLogProbs)->Arg(15000)->Arg(128)->Unit(benchmark::kMicrosecond)->UseRealTime();

}  // namespace


