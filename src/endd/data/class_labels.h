#pragma once
// Class labels as users have them: integers from any start, or names. The
// distinct values found in the training data, sorted (numerically when all
// are numbers, else as text, like scikit-learn's LabelEncoder), are the
// classes 0..K-1; a run keeps that list and writes the user's values back.
#include <ATen/core/Tensor.h>

#include <string>
#include <vector>

namespace endd::data {

/// The canonical form of one label value: trimmed; a number written as an
/// integer ("1.0", "01", " 1" -> "1") or in its shortest form.
std::string canonical_label(const std::string& value);

struct EncodedLabels {
  std::vector<std::string> classes;  ///< sorted distinct canonical values
  at::Tensor codes;                  ///< [N] int64 indices into `classes`
};
EncodedLabels encode_labels(const std::vector<std::string>& values);

/// Identity classes "0".."K-1" (sources whose labels are class indices).
std::vector<std::string> index_classes(int64_t k);

/// Re-encodes `codes` (indices into `from`) as indices into `to`; a value of
/// `from` that `to` lacks is an error naming `source` and the line of the
/// first such row when `lines` (1-based line of each row) is given.
at::Tensor recode_labels(const at::Tensor& codes, const std::vector<std::string>& from,
                         const std::vector<std::string>& to, const std::string& source,
                         const std::vector<int64_t>* lines = nullptr);

/// Refuses a label column that cannot be one (a feature chosen by mistake):
/// more distinct values than half the rows, or most classes seen once.
/// `column` names it in the message, which suggests --label-column.
void check_plausible_labels(const EncodedLabels& labels, const std::string& source, const std::string& column);

/// "a, b, c" (at most `limit` names, then "...").
std::string join_names(const std::vector<std::string>& classes, size_t limit = 12);

}  // namespace endd::data
