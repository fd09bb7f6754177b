// Throughput of the evaluation path: all metrics on 1,000,000 scores, the
// uncertainty measures on 1,000,000 x 10 members x 10 classes, CSV parsing.
#include <ATen/ATen.h>
#include <benchmark/benchmark.h>

#include <random>

#include "endd/core/runtime.h"
#include "endd/data/numeric_csv.h"
#include "endd/metrics/classification.h"
#include "endd/metrics/ranking.h"
#include "endd/metrics/rejection.h"
#include "endd/uncertainty/measures.h"

namespace {

constexpr int64_t kN = 1000000;

// Every metric endd reports for one model on N inputs: error/NLL/ECE/Brier,
// misclassification AUROC and PRR, OOD AUROC/AUPR-in/AUPR-out/FPR95.
void BM_AllMetrics1M(benchmark::State& state) {
  endd::configure_threads(1);
  at::manual_seed(0);
  at::Tensor probs = at::softmax(at::randn({kN, 10}, at::kDouble), -1);
  at::Tensor labels = at::randint(0, 10, {kN}, at::kLong);
  std::mt19937_64 rng(1);
  std::vector<double> score(kN), ood(kN);
  std::vector<uint8_t> wrong(kN);
  for (int64_t i = 0; i < kN; ++i) {
    score[i] = std::uniform_real_distribution<double>()(rng);
    ood[i] = std::uniform_real_distribution<double>()(rng) + 0.2;
    wrong[i] = rng() % 5 == 0;
  }
  for (auto _ : state) {
    endd::metrics::ClassificationMeter meter;
    meter.update(probs, labels);
    auto c = meter.compute();
    double a = endd::metrics::auroc(score, wrong);
    auto p = endd::metrics::prediction_rejection(score, wrong);
    auto d = endd::metrics::ood_detection(score, ood);
    benchmark::DoNotOptimize(c.ece + a + p.prr + d.auroc + d.aupr_in + d.aupr_out + d.fpr95);
  }
  state.SetItemsProcessed(state.iterations() * kN);
}
BENCHMARK(BM_AllMetrics1M)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_EnsembleMeasures1Mx10x10(benchmark::State& state) {
  endd::configure_threads(static_cast<int>(state.range(0)));
  at::manual_seed(0);
  at::Tensor probs = at::softmax(at::randn({kN, 10, 10}), -1);
  for (auto _ : state) {
    auto m = endd::uncertainty::ensemble_measures_from_probs(probs);
    benchmark::DoNotOptimize(m.knowledge.data_ptr());
  }
  state.SetItemsProcessed(state.iterations() * kN);
}
BENCHMARK(BM_EnsembleMeasures1Mx10x10)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_CsvParse(benchmark::State& state) {
  std::string text;
  std::mt19937_64 rng(2);
  char buf[32];
  for (int r = 0; r < 200000; ++r) {
    for (int c = 0; c < 20; ++c) {
      int n = std::snprintf(buf, sizeof buf, "%.9g", std::uniform_real_distribution<double>()(rng));
      text.append(buf, n);
      text += c == 19 ? '\n' : ',';
    }
  }
  for (auto _ : state) {
    auto t = endd::data::parse_numeric_csv(text, "bench.csv");
    benchmark::DoNotOptimize(t.values.data());
  }
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(text.size()));
}
BENCHMARK(BM_CsvParse)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace


