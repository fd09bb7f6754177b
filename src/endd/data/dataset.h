#pragma once
// An in-memory labelled data set and the input standardiser fitted on training data.
#include <ATen/core/Tensor.h>

#include <string>
#include <vector>

namespace endd::data {

struct Dataset {
  std::string name;
  at::Tensor inputs;  ///< [N, D...] float32
  at::Tensor labels;  ///< [N] int64 class codes, or undefined for unlabelled sets (OOD, AUX)
  /// The user's value of each class code (data/class_labels.h): "0".."K-1"
  /// for image formats, the distinct values found (sorted) for CSV files, or
  /// a model's classes once re-encoded to them.
  std::vector<std::string> classes;
  /// CSV: the column the labels came from (0-based, after a dropped index
  /// column) and its header name ("" without a header); -1 for other sources.
  int64_t label_index = -1;
  std::string label_name;
  /// CSV with a header: the names of the feature columns, in order.
  std::vector<std::string> feature_names;
  /// Regression (SourceRequest::numeric_targets): the label column's values,
  /// float64 [N], in place of labels and classes.
  at::Tensor targets;
  int64_t size() const { return inputs.size(0); }
};

/// Per-feature standardisation (x - mean) / std, fitted on one set, applied to all.
/// A feature whose training spread is (near) zero gets scale 1, as in
/// scikit-learn's StandardScaler: dividing by a tiny spread would turn any
/// later nonzero value in that column into ~1e12 (issue 16).
struct Standardizer {
  at::Tensor mean, std;  ///< [D...] float32
  static Standardizer fit(const at::Tensor& inputs);
  /// Mean 0, scale 1 over `features`: inputs pass unchanged (a user's own
  /// TorchScript network takes the data as it is stored).
  static Standardizer identity(int64_t features);
  at::Tensor apply(const at::Tensor& inputs) const;
  at::Tensor invert(const at::Tensor& standardised) const;  ///< inputs from apply()'s output
  /// Scale 1 where `std` is (near) zero or not finite; also repairs scalers
  /// saved by older versions, which clamped the spread to 1e-12.
  static at::Tensor safe_scale(const at::Tensor& std, const at::Tensor& mean);
};

}  // namespace endd::data
