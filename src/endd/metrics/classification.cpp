#include "endd/metrics/classification.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>
#include <numeric>

#include "endd/core/error.h"
#include "endd/uncertainty/measures.h"

namespace endd::metrics {

ClassificationMeter::ClassificationMeter(int num_bins) : num_bins_(num_bins) {
  ENDD_CHECK(num_bins >= 1, "ECE needs at least one bin, got ", num_bins);
}

void ClassificationMeter::update(const at::Tensor& probs_in, const at::Tensor& labels_in) {
  ENDD_CHECK(probs_in.dim() == 2, "probabilities must be [N, K], got ", probs_in.sizes());
  ENDD_CHECK(labels_in.dim() == 1 && labels_in.size(0) == probs_in.size(0),
             "labels must be [N] with N = ", probs_in.size(0), ", got ", labels_in.sizes());
  at::Tensor probs = probs_in.to(at::TensorOptions().dtype(at::kDouble).device(at::kCPU));
  at::Tensor labels = labels_in.to(at::TensorOptions().dtype(at::kLong).device(at::kCPU));
  const int64_t K = probs.size(1);
  if (labels.numel() > 0) {
    ENDD_CHECK(labels.min().item<int64_t>() >= 0 && labels.max().item<int64_t>() < K,
               "labels must lie in [0, ", K, ")");
  }
  at::Tensor p_true = probs.gather(1, labels.unsqueeze(1)).squeeze(1);
  nll_sum_ += -p_true.clamp_min(uncertainty::kLogFloor).log().sum().item<double>();
  at::Tensor onehot = at::zeros_like(probs).scatter_(1, labels.unsqueeze(1), 1.0);
  brier_sum_ += (probs - onehot).pow(2).sum().item<double>();
  auto max = probs.max(1);
  at::Tensor conf = std::get<0>(max).contiguous();
  at::Tensor correct = (std::get<1>(max) == labels).to(at::kByte).contiguous();
  const double* c = conf.data_ptr<double>();
  const uint8_t* ok = correct.data_ptr<uint8_t>();
  confidence_.insert(confidence_.end(), c, c + conf.numel());
  correct_.insert(correct_.end(), ok, ok + correct.numel());
}

void ClassificationMeter::merge(const ClassificationMeter& other) {
  ENDD_CHECK(other.num_bins_ == num_bins_, "cannot merge meters with different bin counts");
  nll_sum_ += other.nll_sum_;
  brier_sum_ += other.brier_sum_;
  confidence_.insert(confidence_.end(), other.confidence_.begin(), other.confidence_.end());
  correct_.insert(correct_.end(), other.correct_.begin(), other.correct_.end());
}

void ClassificationMeter::reset() {
  nll_sum_ = brier_sum_ = 0;
  confidence_.clear();
  correct_.clear();
}

ClassificationResult ClassificationMeter::compute() const {
  ClassificationResult r;
  r.count = static_cast<int64_t>(correct_.size());
  if (r.count == 0) {
    r.error = r.nll = r.ece = r.ece_equal_mass = r.brier = std::nan("");
    return r;
  }
  const double n = static_cast<double>(r.count);
  int64_t right = std::accumulate(correct_.begin(), correct_.end(), int64_t{0});
  r.error = 100.0 * (n - right) / n;
  r.nll = nll_sum_ / n;
  r.brier = brier_sum_ / n;
  r.ece = expected_calibration_error(confidence_, correct_, num_bins_, Binning::kEqualWidth);
  r.ece_equal_mass = expected_calibration_error(confidence_, correct_, num_bins_, Binning::kEqualMass);
  return r;
}

namespace {
int equal_width_bin(double conf, int num_bins) {
  int b = static_cast<int>(std::floor(conf * num_bins));
  return std::clamp(b, 0, num_bins - 1);  // conf = 1 goes to the last (closed) bin
}
}  // namespace

double expected_calibration_error(const std::vector<double>& confidence,
                                  const std::vector<uint8_t>& correct, int num_bins,
                                  Binning binning) {
  ENDD_CHECK(confidence.size() == correct.size(), "ECE: confidence and correctness sizes differ");
  const size_t n = confidence.size();
  if (n == 0) return std::nan("");
  std::vector<double> conf_sum(num_bins, 0.0), right(num_bins, 0.0), count(num_bins, 0.0);
  if (binning == Binning::kEqualWidth) {
    for (size_t i = 0; i < n; ++i) {
      int b = equal_width_bin(confidence[i], num_bins);
      conf_sum[b] += confidence[i];
      right[b] += correct[i];
      count[b] += 1;
    }
  } else {
    std::vector<size_t> order(n);
    std::iota(order.begin(), order.end(), size_t{0});
    std::stable_sort(order.begin(), order.end(),
                     [&](size_t a, size_t b) { return confidence[a] < confidence[b]; });
    for (size_t rank = 0; rank < n; ++rank) {
      int b = static_cast<int>((rank * static_cast<size_t>(num_bins)) / n);
      conf_sum[b] += confidence[order[rank]];
      right[b] += correct[order[rank]];
      count[b] += 1;
    }
  }
  double ece = 0;
  for (int b = 0; b < num_bins; ++b) {
    if (count[b] == 0) continue;
    ece += std::fabs(right[b] - conf_sum[b]) / static_cast<double>(n);  // (n_b/N)|acc_b - conf_b|
  }
  return 100.0 * ece;
}

std::vector<ReliabilityBin> reliability_bins(const std::vector<double>& confidence,
                                             const std::vector<uint8_t>& correct, int num_bins) {
  std::vector<ReliabilityBin> bins(num_bins);
  for (int b = 0; b < num_bins; ++b) bins[b] = {double(b) / num_bins, double(b + 1) / num_bins, 0, 0, 0};
  for (size_t i = 0; i < confidence.size(); ++i) {
    auto& bin = bins[equal_width_bin(confidence[i], num_bins)];
    bin.mean_confidence += confidence[i];
    bin.accuracy += correct[i];
    bin.count += 1;
  }
  for (auto& bin : bins) {
    if (bin.count > 0) {
      bin.mean_confidence /= bin.count;
      bin.accuracy /= bin.count;
    }
  }
  return bins;
}

}  // namespace endd::metrics
