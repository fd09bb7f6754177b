// The input standardiser (dataset.h): statistics in float64, scale 1 for
// constant features.
#include <ATen/ATen.h>

#include "endd/data/dataset.h"

namespace endd::data {

at::Tensor Standardizer::safe_scale(const at::Tensor& std, const at::Tensor& mean) {
  // A float32 column that is constant in training has a float64 spread of
  // exactly 0; a spread below float32's resolution of the mean is rounding,
  // not signal. NaN (a single training row) counts as constant too.
  at::Tensor s = std.to(at::kDouble), m = mean.to(at::kDouble);
  at::Tensor constant = (s <= m.abs() * 1e-6) | (s <= 1e-12) | s.isnan() | s.isinf();
  return at::where(constant, at::ones_like(s), s).to(std.scalar_type());
}

Standardizer Standardizer::fit(const at::Tensor& inputs) {
  at::Tensor x = inputs.to(at::kDouble);
  Standardizer s;
  at::Tensor mean = x.mean(0);
  s.std = safe_scale(x.std(0), mean).to(inputs.scalar_type());
  s.mean = mean.to(inputs.scalar_type());
  return s;
}

at::Tensor Standardizer::apply(const at::Tensor& inputs) const { return (inputs - mean) / std; }

}  // namespace endd::data
