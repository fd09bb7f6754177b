// Cost of one student (EnD^2) distillation step on the spiral MLP, and of its
// parts: the step is dominated by per-operation overhead, not arithmetic, so
// each part is timed by switching it off.
#include <ATen/ATen.h>
#include <benchmark/benchmark.h>
#include <torch/nn/utils/clip_grad.h>
#include <torch/optim/adam.h>

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

// Teacher statistic for a whole transfer set at one temperature: the spiral's
// 15,000 transfer inputs x 100 members x 3 classes.
void BM_TeacherMeanLogProbs(benchmark::State& state) {
  endd::configure_threads(1);
  at::Tensor teacher = at::randn({state.range(0), 100, 3});
  for (auto _ : state) benchmark::DoNotOptimize(endd::distill::teacher_mean_log_probs(teacher, 2.0, 1e-6));
}
BENCHMARK(BM_TeacherMeanLogProbs)->Arg(15000)->Arg(128)->Unit(benchmark::kMicrosecond)->UseRealTime();

}  // namespace


