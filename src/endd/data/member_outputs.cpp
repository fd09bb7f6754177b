#include "endd/data/member_outputs.h"

#include <ATen/ATen.h>

#include <cmath>
#include <cstring>
#include <functional>

#include "endd/core/error.h"
#include "endd/data/delimited_table.h"
#include "endd/data/npy_file.h"
#include "endd/data/tensor_file.h"

namespace endd::data {
namespace {

int64_t first_true_row(const at::Tensor& row_flags) {
  at::Tensor idx = row_flags.nonzero();
  return idx.numel() ? idx[0][0].item<int64_t>() : -1;
}

at::Tensor load_csv(const std::string& path, const MemberOutputOptions& o, std::vector<int64_t>& lines) {
  ENDD_CHECK(o.members >= 1, "--members must be at least 1, got ", o.members);
  // Read as users write them: a header, pandas' index column, ; or tab, CRLF.
  DelimitedTable t = read_delimited_table(path, [](const std::vector<std::string>&, int64_t) { return int64_t{-1}; });
  ENDD_CHECK(t.cols % o.members == 0, path, ": ", t.cols, " columns do not split into --members ",
             o.members, " equal groups of class ", o.kind == OutputKind::kLogits ? "logits" : "probabilities");
  lines = t.line_of_row;
  const int64_t K = t.cols / o.members;
  at::Tensor out = at::empty({t.rows, o.members, K}, at::kDouble);
  std::memcpy(out.data_ptr<double>(), t.values.data(), t.values.size() * sizeof(double));
  return out;
}

at::Tensor load_tensor(const std::string& path, const MemberOutputOptions& o) {
  at::Tensor t = load_array_file(path);
  ENDD_CHECK(t.is_floating_point(), path, ": expected a floating-point tensor, got ", t.scalar_type());
  // Kept in its own precision: the measures convert chunk by chunk to float64.
  t = t.contiguous();
  if (t.dim() == 3) {
    ENDD_CHECK(o.members == 0 || o.members == t.size(1), path, ": tensor of shape ", t.sizes(), " has ",
               t.size(1), " members but --members is ", o.members);
    return t;
  }
  ENDD_CHECK(t.dim() == 2, path, ": expected a tensor [N, M, K] or [N, M*K], got shape ", t.sizes());
  ENDD_CHECK(o.members >= 1, path, ": a 2-d tensor needs --members to split its ", t.size(1), " columns");
  ENDD_CHECK(t.size(1) % o.members == 0, path, ": ", t.size(1), " columns do not split into --members ",
             o.members, " equal groups");
  return t.view({t.size(0), o.members, t.size(1) / o.members});
}

}  // namespace

void validate_probabilities(at::Tensor& probs, const MemberOutputOptions& o,
                            const std::function<std::string(int64_t)>& where) {
  ENDD_CHECK(probs.dim() == 3, "probabilities must be [N, M, K], got ", probs.sizes());
  int64_t bad = first_true_row((probs < 0).flatten(1).any(1));
  if (bad >= 0) {
    at::Tensor row = probs[bad].flatten();
    int64_t col = first_true_row(row < 0);
    throw Error(detail::concat(where(bad), ": column ", col + 1, ": probability ",
                               row[col].item<double>(), " is negative"));
  }
  at::Tensor sums = probs.sum(-1);  // [N, M]
  at::Tensor off = (sums - 1.0).abs() > o.sum_tolerance;
  if (!o.renormalize) {
    bad = first_true_row(off.any(1));
    if (bad >= 0) {
      int64_t m = first_true_row(off[bad]);
      throw Error(detail::concat(where(bad), ": member ", m + 1, "'s probabilities sum to ",
                                 sums[bad][m].item<double>(), ", expected 1 within ", o.sum_tolerance,
                                 " (pass --renormalize to rescale rows, or --logits for logits)"));
    }
  }
  bad = first_true_row((sums <= 0).any(1));
  ENDD_CHECK(bad < 0, where(bad), ": a member's probabilities are all zero");
  if (o.renormalize) probs.div_(sums.unsqueeze(-1));
}

bool is_array_file(const std::string& path) { return is_tensor_file(path) || is_npy_file(path); }

at::Tensor load_array_file(const std::string& path) {
  if (!is_npy_file(path)) return load_tensor_file(path);
  NpyArray a = read_npy(path);
  ENDD_CHECK(!a.is_text(), path, ": holds text; expected numbers");
  return a.values.scalar_type() == at::kHalf ? a.values.to(at::kFloat) : a.values;
}

at::Tensor load_member_outputs(const std::string& path, const MemberOutputOptions& o) {
  std::vector<int64_t> lines;
  const bool tensor_file = is_array_file(path);
  at::Tensor out = tensor_file ? load_tensor(path, o) : load_csv(path, o, lines);
  auto where = [&](int64_t row) {
    return tensor_file ? detail::concat(path, ": row ", row) : detail::concat(path, ":", lines[row]);
  };
  ENDD_CHECK(out.size(0) > 0, path, ": no inputs");
  if (o.kind == OutputKind::kGaussian) {
    ENDD_CHECK(out.size(2) == 2, path, ": each member needs a mean and a variance (2 values, member-major: m1_mean, "
               "m1_var, m2_mean, ...), got ", out.size(2), " (check --members)");
  } else {
    ENDD_CHECK(out.size(2) >= 2, path, ": each member needs at least 2 classes, got ", out.size(2),
               " (check --members)");
  }
  int64_t bad = first_true_row(out.isfinite().logical_not().flatten(1).any(1));
  ENDD_CHECK(bad < 0, where(bad), ": contains NaN or infinity");
  if (o.kind == OutputKind::kGaussian) {
    bad = first_true_row((out.select(2, 1) <= 0).any(1));
    ENDD_CHECK(bad < 0, where(bad), ": a member's variance is ", out[bad].select(1, 1).min().item<double>(),
               "; variances must be > 0 (the second value of each member)");
  }
  if (o.kind == OutputKind::kProbabilities) validate_probabilities(out, o, where);
  return out;
}

at::Tensor read_targets(const std::string& path) {
  if (is_array_file(path)) {  // numpy or torch.save: shape (N,) or (N, 1)
    at::Tensor y = load_array_file(path).to(at::kDouble);
    ENDD_CHECK(y.dim() == 1 || (y.dim() == 2 && y.size(1) == 1), path, ": targets must be one per input, shape (N,), "
               "got ", y.sizes());
    y = y.flatten().contiguous();
    ENDD_CHECK(y.numel() >= 1, path, ": no targets");
    const int64_t bad = first_true_row(y.isfinite().logical_not());
    ENDD_CHECK(bad < 0, path, ": target ", bad, " is not a finite number");
    return y;
  }
  DelimitedTable t = read_delimited_table(path, [](const std::vector<std::string>&, int64_t) { return int64_t{-1}; });
  ENDD_CHECK(t.cols == 1, path, ": expected one target value per line, got ", t.cols, " columns");
  ENDD_CHECK(t.rows >= 1, path, ": no targets");
  at::Tensor y = at::empty({t.rows}, at::kDouble);
  double* out = y.data_ptr<double>();
  for (int64_t i = 0; i < t.rows; ++i) {
    const double v = t.values[static_cast<size_t>(i)];
    ENDD_CHECK(std::isfinite(v), path, ":", t.line_of_row[i], ": target ", v, " is not a finite number");
    out[i] = v;
  }
  return y;
}

at::Tensor read_labels(const std::string& path, int64_t num_classes) {
  // Read as users write them: a header, pandas' index column, ; or tab, CRLF.
  DelimitedTable t = read_delimited_table(path, [](const std::vector<std::string>&, int64_t) { return int64_t{-1}; });
  ENDD_CHECK(t.cols == 1, path, ": expected one integer class per line, got ", t.cols, " columns");
  at::Tensor labels = at::empty({t.rows}, at::kLong);
  int64_t* out = labels.data_ptr<int64_t>();
  for (int64_t i = 0; i < t.rows; ++i) {
    double v = t.values[static_cast<size_t>(i)];
    ENDD_CHECK(v == std::floor(v), path, ":", t.line_of_row[i], ": label ", v, " is not an integer");
    ENDD_CHECK(v >= 0 && v < double(num_classes), path, ":", t.line_of_row[i], ": label ", v,
               " is out of range, expected 0 .. ", num_classes - 1);
    out[i] = static_cast<int64_t>(v);
  }
  return labels;
}

}  // namespace endd::data
