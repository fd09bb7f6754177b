#include "endd/data/source.h"

#include <ATen/ATen.h>

#include <cmath>
#include <cstring>

#include "endd/core/error.h"
#include "endd/data/numeric_csv.h"

namespace endd::data {
namespace {

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

Dataset load_csv(const std::string& path, const SourceRequest& r) {
  NumericTable t = read_numeric_csv(path);
  bool has_labels;
  if (r.features > 0) {
    ENDD_CHECK(t.cols == r.features || t.cols == r.features + 1, path, ": ", t.cols,
               " columns, but the model takes ", r.features, " features (expected ", r.features,
               " feature columns, optionally followed by a label column)");
    has_labels = t.cols == r.features + 1;
  } else {
    ENDD_CHECK(t.cols >= 2, path, ": expected feature columns followed by a label column, got ", t.cols,
               " column(s)");
    has_labels = true;
  }
  ENDD_CHECK(has_labels || !r.need_labels, path, ": no label column (expected ", r.features + 1,
             " columns: features, then the label)");
  const int64_t d = has_labels ? t.cols - 1 : t.cols;
  Dataset out;
  out.name = path;
  out.inputs = at::empty({t.rows, d}, at::kFloat);
  float* x = out.inputs.data_ptr<float>();
  if (has_labels) out.labels = at::empty({t.rows}, at::kLong);
  for (int64_t i = 0; i < t.rows; ++i) {
    const double* row = t.values.data() + i * t.cols;
    for (int64_t j = 0; j < d; ++j) {
      ENDD_CHECK(std::fabs(row[j]) < 3.0e38, path, ":", t.line_of_row[i], ": column ", j + 1, ": value ",
                 row[j], " does not fit in float32");
      x[i * d + j] = static_cast<float>(row[j]);
    }
    if (has_labels) {
      double y = row[d];
      ENDD_CHECK(y == std::floor(y) && y >= 0, t.path, ":", t.line_of_row[i], ": label ", y,
                 " is not a non-negative integer (the last column is the label)");
      ENDD_CHECK(r.classes <= 0 || y < double(r.classes), path, ":", t.line_of_row[i], ": label ", y,
                 " is out of range for a model of ", r.classes, " classes (expected 0 .. ", r.classes - 1, ")");
      out.labels.data_ptr<int64_t>()[i] = static_cast<int64_t>(y);
    }
  }
  return out;
}

}  // namespace

Dataset load_source(const std::string& spec, const SourceRequest& request) {
  if (spec.rfind("csv:", 0) == 0) return load_csv(spec.substr(4), request);
  if (ends_with(spec, ".csv")) return load_csv(spec, request);
  throw Error("data source '" + spec + "': unknown kind; expected csv:FILE or a FILE.csv (docs/data-sources.md)");
}

}  // namespace endd::data
