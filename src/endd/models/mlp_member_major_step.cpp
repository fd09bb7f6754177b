// MlpEnsemble's training step member after member: one member's forward
// pass, cross-entropy gradient and backward pass on raw buffers, one BLAS call
// per product, before the next member's (mlp_ensemble.h says why).
#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include <algorithm>
#include <climits>
#include <cmath>
#include <vector>

#include "endd/core/error.h"
#include "endd/models/activation_kernels.h"
#include "endd/models/member_matmul.h"
#include "endd/models/mlp_ensemble.h"

namespace endd::models {

namespace {

// Rows of logits z [B, K] -> d (sum of cross-entropies / B) / d z into g, in
// place; returns the sum of the rows' cross-entropies / B. Log-sum-exp in
// double: finite for any finite logits.
double cross_entropy_rows(float* z, const int64_t* labels, int64_t B, int64_t K) {
  double loss = 0;
  const double scale = 1.0 / double(B);
  for (int64_t i = 0; i < B; ++i) {
    float* row = z + i * K;
    const float top = *std::max_element(row, row + K);
    double total = 0;
    for (int64_t k = 0; k < K; ++k) total += std::exp(double(row[k]) - double(top));
    const double log_total = double(top) + std::log(total);
    loss += log_total - double(row[labels[i]]);
    for (int64_t k = 0; k < K; ++k) row[k] = float(std::exp(double(row[k]) - log_total) * scale);
    row[labels[i]] -= float(scale);
  }
  return loss * scale;
}

}  // namespace

bool MlpEnsemble::has_member_major_step() const {
  const at::Tensor& w = weights_.front();
  return has_taped_backward() && have_blas() && w.device().is_cpu() && w.scalar_type() == at::kFloat;
}

double MlpEnsemble::cross_entropy_gradients(const at::Tensor& inputs, const at::Tensor& labels) {
  ENDD_CHECK(has_member_major_step(), "MLP: no member-major step for these parameters or this activation");
  at::NoGradGuard no_grad;
  at::Tensor x = inputs;
  if (x.dim() == 2) x = x.unsqueeze(0).expand({members_, x.size(0), x.size(1)});
  ENDD_CHECK(x.dim() == 3 && x.size(0) == members_ && x.size(2) == options_.inputs_ && x.size(1) >= 1,
             "MLP ensemble expects inputs [B, ", options_.inputs_, "] or [", members_, ", B, ", options_.inputs_,
             "], got ", inputs.sizes());
  ENDD_CHECK(x.device().is_cpu() && labels.device().is_cpu(),
             "MLP: the member-major step takes inputs and labels on the CPU");
  x = x.to(at::kFloat);
  if (x.stride(2) != 1 || x.stride(1) != options_.inputs_) x = x.contiguous();
  const int64_t B = x.size(1), K = options_.classes_;
  at::Tensor y = labels.to(at::kLong).contiguous();
  ENDD_CHECK(y.dim() == 1 && y.size(0) == members_ * B, "MLP: labels must be [", members_ * B, "], got ",
             labels.sizes());
  ENDD_CHECK(y.numel() == 0 || (y.min().item<int64_t>() >= 0 && y.max().item<int64_t>() < K),
             "MLP: labels must lie in [0, ", K, ")");

  const size_t layers = weights_.size();
  std::vector<int64_t> sizes{options_.inputs_};
  std::vector<const float*> w(layers), b(layers);
  std::vector<float*> dw(layers), db(layers);
  for (size_t l = 0; l < layers; ++l) {
    sizes.push_back(weights_[l].size(2));
    for (at::Tensor* p : {&weights_[l], &biases_[l]}) {
      if (!p->mutable_grad().defined()) p->mutable_grad() = at::zeros_like(*p);
      ENDD_CHECK(p->grad().is_contiguous() && p->grad().scalar_type() == at::kFloat,
                 "MLP: parameter gradients must be contiguous float32");
    }
    ENDD_CHECK(weights_[l].is_contiguous() && biases_[l].is_contiguous(), "MLP: parameters must be contiguous");
    w[l] = weights_[l].data_ptr<float>();
    b[l] = biases_[l].data_ptr<float>();
    dw[l] = weights_[l].mutable_grad().data_ptr<float>();
    db[l] = biases_[l].mutable_grad().data_ptr<float>();
  }
  const int64_t widest = *std::max_element(sizes.begin(), sizes.end());
  ENDD_CHECK(B * widest <= INT_MAX, "MLP: a batch of ", B, " rows is too large for one product");
  const float* x_data = x.data_ptr<float>();
  const int64_t* y_data = y.data_ptr<int64_t>();
  const int64_t x_member_stride = x.stride(0);
  std::vector<double> member_loss(static_cast<size_t>(members_));
  const Activation activation = options_.activation_;
  const int iB = static_cast<int>(B);

  at::parallel_for(0, members_, 1, [&](int64_t begin, int64_t end) {
    // Layer outputs (after the activation; the last holds logits, then their
    // gradient) and two gradient buffers, reused member after member.
    std::vector<std::vector<float>> out(layers);
    for (size_t l = 0; l < layers; ++l) out[l].resize(static_cast<size_t>(B * sizes[l + 1]));
    std::vector<float> grad(static_cast<size_t>(B * widest)), next(static_cast<size_t>(B * widest));
    for (int64_t m = begin; m < end; ++m) {
      auto layer_input = [&](size_t l) { return l == 0 ? x_data + m * x_member_stride : out[l - 1].data(); };
      for (size_t l = 0; l < layers; ++l) {
        const int64_t in = sizes[l], width = sizes[l + 1];
        const float* bias = b[l] + m * width;
        float* h = out[l].data();
        for (int64_t i = 0; i < B; ++i) std::copy(bias, bias + width, h + i * width);
        row_major_gemm(false, false, iB, int(width), int(in), layer_input(l), int(in), w[l] + m * in * width,
                       int(width), 1.0f, h, int(width));
        if (l + 1 < layers) activate_in_place(activation, h, B * width);
      }
      member_loss[static_cast<size_t>(m)] = cross_entropy_rows(out[layers - 1].data(), y_data + m * B, B, K);
      const float* g = out[layers - 1].data();
      for (size_t l = layers; l-- > 0;) {
        const int64_t in = sizes[l], width = sizes[l + 1];
        // d/dW = input^T g, d/db = g summed over rows, d/dinput = g W^T.
        row_major_gemm(true, false, int(in), int(width), iB, layer_input(l), int(in), g, int(width), 0.0f,
                       dw[l] + m * in * width, int(width));
        float* bias_grad = db[l] + m * width;
        std::fill(bias_grad, bias_grad + width, 0.f);
        for (int64_t i = 0; i < B; ++i)
          for (int64_t j = 0; j < width; ++j) bias_grad[j] += g[i * width + j];
        if (l == 0) break;  // the inputs need no gradient
        row_major_gemm(false, true, iB, int(in), int(width), g, int(width), w[l] + m * in * width, int(width), 0.0f,
                       next.data(), int(in));
        activation_backward_in_place(activation, next.data(), out[l - 1].data(), B * in);
        std::swap(grad, next);
        g = grad.data();
      }
    }
  });
  double loss = 0;
  for (double v : member_loss) loss += v;  // in member order, whatever the threads
  return loss;
}

}  // namespace endd::models
