#pragma once
// An in-memory labelled data set and the input standardiser fitted on training data.
#include <ATen/core/Tensor.h>

#include <string>

namespace endd::data {

struct Dataset {
  std::string name;
  at::Tensor inputs;  ///< [N, D...] float32
  at::Tensor labels;  ///< [N] int64, or undefined for unlabelled sets (OOD, AUX)
  int64_t size() const { return inputs.size(0); }
};

/// Per-feature standardisation (x - mean) / std, fitted on one set, applied to all.
struct Standardizer {
  at::Tensor mean, std;
  static Standardizer fit(const at::Tensor& inputs);
  at::Tensor apply(const at::Tensor& inputs) const;
};

}  // namespace endd::data
