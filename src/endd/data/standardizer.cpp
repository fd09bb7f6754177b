// The input standardiser (dataset.h): scale 1 for constant features.
#include <ATen/ATen.h>

#include "endd/data/dataset.h"

namespace endd::data {

at::Tensor Standardizer::safe_scale(const at::Tensor& std, const at::Tensor& mean) {
  // A spread below float32's resolution of the mean is rounding, not signal
  // (a constant column's float32 mean need not be exact); NaN (a single
  // training row) counts as constant too.
  at::Tensor s = std.to(at::kDouble), m = mean.to(at::kDouble);
  at::Tensor constant = (s <= m.abs() * 1e-6) | (s <= 1e-12) | s.isnan() | s.isinf();
  return at::where(constant, at::ones_like(s), s).to(std.scalar_type());
}

Standardizer Standardizer::fit(const at::Tensor& inputs) {
  // Statistics in the inputs' own precision, as before constant features were
  // handled, so that every other feature is scaled exactly as it was (and the
  // experiments' results stay as recorded).
  Standardizer s;
  s.mean = inputs.mean(0);
  s.std = safe_scale(inputs.std(0), s.mean);
  return s;
}

Standardizer Standardizer::identity(int64_t features) {
  return {at::zeros({features}, at::kFloat), at::ones({features}, at::kFloat)};
}

at::Tensor Standardizer::apply(const at::Tensor& inputs) const { return (inputs - mean) / std; }

at::Tensor Standardizer::invert(const at::Tensor& standardised) const { return standardised * std + mean; }

}  // namespace endd::data
