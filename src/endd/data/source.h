#pragma once
// Data sources named on the command line (docs/data-sources.md):
//   csv:FILE   numeric CSV, one row per input: features, then an integer label
//              (the label column may be absent where no labels are needed)
//   FILE.csv   the same
#include <string>

#include "endd/data/dataset.h"

namespace endd::data {

struct SourceRequest {
  /// Feature count the consumer expects (a trained model's input size); 0 =
  /// unknown, then the last column is the label.
  int64_t features = 0;
  bool need_labels = true;
  /// Labels must lie in [0, classes) when classes > 0.
  int64_t classes = 0;
};

/// Loads a source. Errors name the source, file and line: unknown scheme, a
/// column count that fits neither features nor features + label, a label that
/// is not a non-negative integer (or out of range), NaN/Inf features, no rows.
Dataset load_source(const std::string& spec, const SourceRequest& request = {});

}  // namespace endd::data
