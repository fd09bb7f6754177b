#pragma once
// The MLP activations and their backward formulas as loops over float
// buffers, in place: the same values as at::relu / at::tanh / at::leaky_relu
// and LibTorch's threshold_backward / tanh_backward / leaky_relu_backward
// (the build does not contract them into FMAs), without a dispatch or an
// allocation per call. For the steps without autograd (mlp_ensemble.h).
#include <cmath>
#include <cstdint>

#include "endd/models/mlp_ensemble.h"

namespace endd::models {

inline constexpr float kLeakyReluSlope = 0.01f;

/// h = activation(h), n elements.
inline void activate_in_place(Activation a, float* h, int64_t n) {
  switch (a) {
    case Activation::kReLU:
      for (int64_t i = 0; i < n; ++i) h[i] = h[i] < 0.f ? 0.f : h[i];  // keeps NaN, as at::relu does
      break;
    case Activation::kTanh:
      for (int64_t i = 0; i < n; ++i) h[i] = std::tanh(h[i]);
      break;
    case Activation::kLeakyReLU:
      for (int64_t i = 0; i < n; ++i) h[i] = h[i] > 0.f ? h[i] : h[i] * kLeakyReluSlope;
      break;
    case Activation::kGELU: break;  // no taped backward: callers refuse it
  }
}

/// g = d loss / d pre-activation, from g = d loss / d output and the output.
inline void activation_backward_in_place(Activation a, float* g, const float* out, int64_t n) {
  switch (a) {
    case Activation::kReLU:
      for (int64_t i = 0; i < n; ++i) g[i] = out[i] <= 0.f ? 0.f : g[i];
      break;
    case Activation::kTanh:
      for (int64_t i = 0; i < n; ++i) g[i] = g[i] * (1.f - out[i] * out[i]);
      break;
    case Activation::kLeakyReLU:
      for (int64_t i = 0; i < n; ++i) g[i] = out[i] > 0.f ? g[i] : g[i] * kLeakyReluSlope;
      break;
    case Activation::kGELU: break;
  }
}

}  // namespace endd::models
