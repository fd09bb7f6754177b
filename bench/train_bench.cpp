// Ensemble training throughput (member-steps per second): vectorised (all
// members in one graph) vs one member at a time, same architecture, batch and
// optimiser. Plus the machine's single-precision GEMM roof.
#include <ATen/ATen.h>
#include <benchmark/benchmark.h>
#include <torch/csrc/autograd/grad_mode.h>
#include <torch/optim/adam.h>

#include <memory>

#include "endd/core/runtime.h"
#include "endd/train/ensemble_shards.h"
#include "endd/train/flat_adam.h"
#include "endd/train/lanes.h"
#include "endd/models/conv_ensemble.h"
#include "endd/models/conv_layout.h"
#include "endd/models/max_pool.h"
#include "endd/models/member_matmul.h"
#include "endd/models/mlp_ensemble.h"

namespace {

using endd::models::EnsembleNet;

std::vector<uint64_t> seeds(int64_t n, uint64_t base) {
  std::vector<uint64_t> s;
  for (int64_t i = 0; i < n; ++i) s.push_back(base + static_cast<uint64_t>(i));
  return s;
}

// One Adam step of `net` on per-member batches x [M, B, ...] / y [M, B].
void step(EnsembleNet& net, torch::optim::Adam& opt, const at::Tensor& x, const at::Tensor& y) {
  at::Tensor logits = net.forward(x);
  at::Tensor loss = at::cross_entropy_loss(logits.flatten(0, 1), y.flatten(), {}, at::Reduction::Sum) / double(y.size(1));
  opt.zero_grad();
  loss.backward();
  opt.step();
}

template <typename Make>
void run(benchmark::State& state, Make make, at::IntArrayRef sample, int64_t classes, bool vectorised) {
  endd::configure_threads(1);
  const int64_t M = state.range(0), B = 128;
  std::vector<int64_t> shape{M, B};
  shape.insert(shape.end(), sample.begin(), sample.end());
  at::Tensor x = at::randn(shape);
  at::Tensor y = at::randint(0, classes, {M, B}, at::kLong);
  std::vector<std::shared_ptr<EnsembleNet>> nets;
  std::vector<std::unique_ptr<torch::optim::Adam>> opts;
  for (int64_t m = 0; m < (vectorised ? 1 : M); ++m) {
    nets.push_back(make(vectorised ? seeds(M, 1) : seeds(1, 1 + static_cast<uint64_t>(m))));
    opts.push_back(std::make_unique<torch::optim::Adam>(nets.back()->parameters(), torch::optim::AdamOptions(1e-3)));
  }
  for (auto _ : state) {
    if (vectorised) {
      step(*nets[0], *opts[0], x, y);
    } else {
      for (int64_t m = 0; m < M; ++m) step(*nets[m], *opts[m], x.slice(0, m, m + 1), y.slice(0, m, m + 1));
    }
  }
  state.counters["member_steps_per_s"] = benchmark::Counter(double(state.iterations() * M), benchmark::Counter::kIsRate);
}

auto mlp = [](std::vector<uint64_t> s) {
  return std::make_shared<endd::models::MlpEnsemble>(endd::models::MlpOptions(2, 3).hidden_layers(3).width(64), s);
};
auto cnn = [](std::vector<uint64_t> s) {
  return std::make_shared<endd::models::ConvEnsemble>(endd::models::ConvOptions::preset("cnn", 1, 28, 28, 10), s);
};

void BM_SpiralMlpVectorised(benchmark::State& s) { run(s, mlp, {2}, 3, true); }
void BM_SpiralMlpOneByOne(benchmark::State& s) { run(s, mlp, {2}, 3, false); }
void BM_FashionCnnVectorised(benchmark::State& s) { run(s, cnn, {1, 28, 28}, 10, true); }
// The same ensemble with its convolutional stages run member after member.
auto cnn_member_major = [](std::vector<uint64_t> s) {
  auto net = cnn(std::move(s));
  net->set_member_major(true);
  return net;
};
void BM_FashionCnnMemberMajor(benchmark::State& s) { run(s, cnn_member_major, {1, 28, 28}, 10, true); }
void BM_FashionCnnOneByOne(benchmark::State& s) { run(s, cnn, {1, 28, 28}, 10, false); }
// The whole machine, as `endd experiment fashion-mnist` trains on the CPU:
// the members in one shard per core, each shard a vectorised graph with one
// intra-op thread (ensemble_shards.h). Compare with PyTorch given every core.
// As `endd train` trains them: one one-thread shard per core, the stages in
// the layout measured faster on this machine (models/conv_layout.h).
void BM_FashionCnnShardedAllCores(benchmark::State& state) {
  const int64_t M = state.range(0), B = 128;
  const size_t shards = endd::train::shards_for(M, at::kCPU);
  const auto layout = endd::models::measure_conv_layout(endd::models::ConvOptions::preset("cnn", 1, 28, 28, 10), B);
  std::vector<std::shared_ptr<EnsembleNet>> nets;
  std::vector<std::unique_ptr<torch::optim::Adam>> opts;
  std::vector<at::Tensor> xs, ys;
  for (size_t s = 0; s < shards; ++s) {
    const int64_t begin = M * int64_t(s) / int64_t(shards), end = M * int64_t(s + 1) / int64_t(shards);
    auto net = cnn(seeds(end - begin, 1 + static_cast<uint64_t>(begin)));
    net->set_member_major(layout.member_major);
    nets.push_back(net);
    opts.push_back(std::make_unique<torch::optim::Adam>(nets.back()->parameters(), torch::optim::AdamOptions(1e-3)));
    xs.push_back(at::randn({end - begin, B, 1, 28, 28}));
    ys.push_back(at::randint(0, 10, {end - begin, B}, at::kLong));
  }
  for (auto _ : state)
    endd::train::run_in_lanes(shards, shards, [&](size_t s) { step(*nets[s], *opts[s], xs[s], ys[s]); });
  state.counters["member_steps_per_s"] = benchmark::Counter(double(state.iterations() * M), benchmark::Counter::kIsRate);
  state.counters["shards"] = double(shards);
  state.counters["member_major"] = layout.member_major ? 1 : 0;
}

// The 100-member spiral step's optimiser (issue 21, deliverable 1): 0
// torch::optim::Adam (10 operations per parameter tensor), 1 FlatAdam (one
// flat buffer, the product's), 2 no optimiser step (forward and backward).
void BM_SpiralMlpStepOptimiser(benchmark::State& state) {
  endd::configure_threads(1);
  const int64_t M = 100, B = 128;
  endd::models::MlpEnsemble net(endd::models::MlpOptions(2, 3).hidden_layers(3).width(64), seeds(M, 1));
  at::Tensor x = at::randn({M, B, 2});
  at::Tensor y = at::randint(0, 3, {M, B}, at::kLong);
  torch::optim::Adam torch_adam(net.parameters(), torch::optim::AdamOptions(1e-3));
  endd::train::FlatAdam flat_adam(net.parameters(), torch::optim::AdamOptions(1e-3));
  for (auto _ : state) {
    at::Tensor logits = net.forward(x);
    at::Tensor loss = at::cross_entropy_loss(logits.flatten(0, 1), y.flatten(), {}, at::Reduction::Sum) / double(B);
    flat_adam.zero_grad();
    loss.backward();
    if (state.range(0) == 0) torch_adam.step();
    if (state.range(0) == 1) flat_adam.step();
  }
  state.counters["member_steps_per_s"] = benchmark::Counter(double(state.iterations() * M), benchmark::Counter::kIsRate);
}

BENCHMARK(BM_SpiralMlpStepOptimiser)->DenseRange(0, 2)->Unit(benchmark::kMillisecond)->UseRealTime();

// The 100-member spiral step as `endd train` takes it (train_ensemble):
// member after member through all layers on raw buffers
// (MlpEnsemble::cross_entropy_gradients), then FlatAdam. Compare with
// BM_SpiralMlpStepOptimiser/1: the same step through the stacked autograd graph.
void BM_SpiralMlpProductStep(benchmark::State& state) {
  endd::configure_threads(1);
  const int64_t M = state.range(0), B = 128;
  endd::models::MlpEnsemble net(endd::models::MlpOptions(2, 3).hidden_layers(3).width(64), seeds(M, 1));
  at::Tensor x = at::randn({M, B, 2});
  at::Tensor y = at::randint(0, 3, {M * B}, at::kLong);
  endd::train::FlatAdam opt(net.parameters(), torch::optim::AdamOptions(1e-3));
  for (auto _ : state) {
    benchmark::DoNotOptimize(net.cross_entropy_gradients(x, y));
    opt.step();
  }
  state.counters["member_steps_per_s"] = benchmark::Counter(double(state.iterations() * M), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_SpiralMlpProductStep)->Arg(100)->Unit(benchmark::kMillisecond)->UseRealTime();

// The 100-member spiral MLP's layers (2-64-64-64-3, batch 128), forward and
// backward under autograd: 0 LibTorch's baddbmm (one addmm per member
// inside), 1 endd's member_linear (one BLAS call per member; the same
// numbers, models/member_matmul.h).
void BM_SpiralMlpLayers(benchmark::State& state) {
  endd::configure_threads(1);
  const int64_t M = 100, B = 128;
  const std::vector<int64_t> sizes{2, 64, 64, 64, 3};
  std::vector<at::Tensor> w, b;
  for (size_t l = 0; l + 1 < sizes.size(); ++l) {
    w.push_back(at::randn({M, sizes[l], sizes[l + 1]}).requires_grad_(true));
    b.push_back(at::randn({M, 1, sizes[l + 1]}).requires_grad_(true));
  }
  at::Tensor x = at::randn({B, 2}).unsqueeze(0).expand({M, B, 2});
  for (auto _ : state) {
    at::Tensor h = x;
    for (size_t l = 0; l < w.size(); ++l) {
      h = state.range(0) == 0 ? at::baddbmm(b[l], h, w[l]) : endd::models::member_linear(h, w[l], b[l]);
      if (l + 1 < w.size()) h = at::relu(h);
    }
    h.sum().backward();
  }
  double flops = 0;  // forward, and two products per layer backward (one for the first)
  for (size_t l = 0; l + 1 < sizes.size(); ++l) flops += 2.0 * M * B * sizes[l] * sizes[l + 1] * (l == 0 ? 2 : 3);
  state.counters["GFLOPs"] = benchmark::Counter(flops * double(state.iterations()) / 1e9, benchmark::Counter::kIsRate);
}
BENCHMARK(BM_SpiralMlpLayers)->DenseRange(0, 1)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_SpiralMlpVectorised)->Arg(100)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_SpiralMlpOneByOne)->Arg(100)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_FashionCnnVectorised)->Arg(10)->MinWarmUpTime(1)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_FashionCnnMemberMajor)->Arg(10)->Arg(5)->MinWarmUpTime(1)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_FashionCnnOneByOne)->Arg(10)->MinWarmUpTime(1)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_FashionCnnShardedAllCores)->Arg(10)->MinWarmUpTime(1)->Unit(benchmark::kMillisecond)->UseRealTime();

// The single-precision GEMM roof: a large square matrix product.
void BM_GemmRoof(benchmark::State& state) {
  endd::configure_threads(static_cast<int>(state.range(0)));
  const int64_t n = 2048;
  at::Tensor a = at::randn({n, n}), b = at::randn({n, n});
  for (auto _ : state) benchmark::DoNotOptimize(at::mm(a, b).data_ptr());
  state.counters["GFLOPs"] = benchmark::Counter(2.0 * n * n * n * double(state.iterations()) / 1e9,
                                                benchmark::Counter::kIsRate);
}
BENCHMARK(BM_GemmRoof)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace



namespace {
// Inference: inputs per second of an M-member ensemble vs one distilled
// network of the same member architecture (EnD^2's single forward pass).
void BM_SpiralInference(benchmark::State& state) {
  endd::configure_threads(1);
  const int64_t M = state.range(0);
  endd::models::MlpEnsemble net(endd::models::MlpOptions(2, 3).hidden_layers(3).width(64), seeds(M, 1));
  net.eval();
  at::Tensor x = at::randn({10000, 2});
  torch::NoGradGuard no_grad;
  for (auto _ : state) benchmark::DoNotOptimize(at::softmax(net.forward(x), -1).mean(0).data_ptr());
  state.counters["inputs_per_s"] = benchmark::Counter(10000.0 * double(state.iterations()), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_SpiralInference)->Arg(100)->Arg(1)->Unit(benchmark::kMillisecond)->UseRealTime();
}  // namespace

namespace {
// CNN inference (teacher labels, evaluation, metrics.json): images per second
// of an M-member Fashion CNN ensemble by batch size, one thread. The batch
// decides whether a convolution's activations stay in cache.
void BM_FashionCnnInference(benchmark::State& state) {
  endd::configure_threads(1);
  const int64_t M = state.range(0), batch = state.range(1), n = 4096;
  auto net = cnn(seeds(M, 1));
  net->eval();
  at::Tensor x = at::randn({n, 1, 28, 28});
  torch::NoGradGuard no_grad;
  for (auto _ : state)
    for (int64_t i = 0; i < n; i += batch)
      benchmark::DoNotOptimize(net->forward(x.slice(0, i, std::min(n, i + batch))).data_ptr());
  state.counters["images_per_s"] = benchmark::Counter(double(n * state.iterations()), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_FashionCnnInference)
    ->ArgsProduct({{10, 1}, {32, 128, 409, 4096}})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
}  // namespace

namespace {
// 2x2 max-pooling of the Fashion CNN's first stage ([128, 16, 28, 28], the
// second: [128, 32, 14, 14]), forward and backward, one thread: 0 LibTorch's
// at::max_pool2d, 1 endd's loop (models/max_pool.h), 2 LibTorch on a
// channels-last copy (its fast kernel, plus the copies).
void BM_MaxPool2x2(benchmark::State& state) {
  endd::configure_threads(1);
  const int64_t channels = state.range(1), side = channels == 16 ? 28 : 14;
  at::Tensor x = at::relu(at::randn({128, channels, side, side})).requires_grad_(true);
  at::Tensor g = at::randn({128, channels, side / 2, side / 2});
  for (auto _ : state) {
    at::Tensor y;
    if (state.range(0) == 0) y = at::max_pool2d(x, {2, 2});
    if (state.range(0) == 1) y = endd::models::max_pool_2x2(x);
    if (state.range(0) == 2) y = at::max_pool2d(x.contiguous(at::MemoryFormat::ChannelsLast), {2, 2}).contiguous();
    y.backward(g);
  }
}
BENCHMARK(BM_MaxPool2x2)->ArgsProduct({{0, 1, 2}, {16, 32}})->Unit(benchmark::kMicrosecond)->UseRealTime();
}  // namespace
