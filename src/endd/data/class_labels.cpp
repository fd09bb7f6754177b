#include "endd/data/class_labels.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <map>

#include "endd/core/error.h"

namespace endd::data {
namespace {

bool as_number(const std::string& s, double& v) {
  if (s.empty()) return false;
  const char* b = s.data() + (s[0] == '+' ? 1 : 0);
  auto [ptr, ec] = std::from_chars(b, s.data() + s.size(), v);
  return ec == std::errc() && ptr == s.data() + s.size() && std::isfinite(v);
}

}  // namespace

std::string canonical_label(const std::string& value) {
  size_t b = value.find_first_not_of(" \t\r"), e = value.find_last_not_of(" \t\r");
  std::string s = b == std::string::npos ? "" : value.substr(b, e - b + 1);
  double v;
  if (!as_number(s, v)) return s;
  if (v == std::floor(v) && std::fabs(v) < 1e15) return std::to_string(static_cast<int64_t>(v));
  char buf[32];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, r.ptr);
}

EncodedLabels encode_labels(const std::vector<std::string>& values) {
  std::vector<std::string> canonical;
  canonical.reserve(values.size());
  std::map<std::string, int64_t> seen;
  for (const auto& v : values) {
    canonical.push_back(canonical_label(v));
    seen.emplace(canonical.back(), 0);
  }
  EncodedLabels out;
  for (const auto& [name, unused] : seen) out.classes.push_back(name);
  bool numeric = true;
  for (const auto& c : out.classes) {
    double v;
    numeric = numeric && as_number(c, v);
  }
  if (numeric) {
    std::stable_sort(out.classes.begin(), out.classes.end(), [](const std::string& a, const std::string& b) {
      return std::stod(a) < std::stod(b);
    });
  }
  for (size_t k = 0; k < out.classes.size(); ++k) seen[out.classes[k]] = static_cast<int64_t>(k);
  out.codes = at::empty({static_cast<int64_t>(values.size())}, at::kLong);
  int64_t* codes = out.codes.data_ptr<int64_t>();
  for (size_t i = 0; i < canonical.size(); ++i) codes[i] = seen[canonical[i]];
  return out;
}

std::vector<std::string> index_classes(int64_t k) {
  std::vector<std::string> out;
  for (int64_t c = 0; c < k; ++c) out.push_back(std::to_string(c));
  return out;
}

at::Tensor recode_labels(const at::Tensor& codes, const std::vector<std::string>& from,
                         const std::vector<std::string>& to, const std::string& source,
                         const std::vector<int64_t>* lines) {
  if (from == to) return codes;
  std::map<std::string, int64_t> index;
  for (size_t k = 0; k < to.size(); ++k) index.emplace(to[k], static_cast<int64_t>(k));
  std::vector<int64_t> map(from.size(), -1);
  for (size_t k = 0; k < from.size(); ++k) {
    auto it = index.find(from[k]);
    if (it != index.end()) map[k] = it->second;
  }
  at::Tensor c = codes.contiguous();
  at::Tensor out = at::empty_like(c);
  const int64_t* in = c.data_ptr<int64_t>();
  int64_t* o = out.data_ptr<int64_t>();
  for (int64_t i = 0; i < c.numel(); ++i) {
    ENDD_ASSERT(in[i] >= 0 && in[i] < static_cast<int64_t>(from.size()));
    o[i] = map[static_cast<size_t>(in[i])];
    ENDD_CHECK(o[i] >= 0, source, ":", lines ? (*lines)[static_cast<size_t>(i)] : i + 1, ": label '",
               from[static_cast<size_t>(in[i])], "' is not one of the model's ", to.size(), " classes (",
               join_names(to), ")");
  }
  return out;
}

void check_plausible_labels(const EncodedLabels& labels, const std::string& source, const std::string& column) {
  const int64_t n = labels.codes.numel(), k = static_cast<int64_t>(labels.classes.size());
  at::Tensor counts = at::bincount(labels.codes, {}, k);
  const int64_t singletons = (counts == 1).sum().item<int64_t>();
  const bool too_many = k > n / 2 && n >= 4;
  const bool mostly_single = k >= 2 && 2 * singletons > k;
  ENDD_CHECK(!too_many && !mostly_single, source, ": the label column ", column, " has ", k, " distinct values in ",
             n, " rows", mostly_single ? " (" + std::to_string(singletons) + " of them seen once)" : std::string(),
             "; that is not a class label. Name the label column with --label-column NAME|INDEX (default: the "
             "last column)");
}

std::string join_names(const std::vector<std::string>& classes, size_t limit) {
  std::string out;
  for (size_t k = 0; k < classes.size() && k < limit; ++k) out += (k ? ", " : "") + classes[k];
  if (classes.size() > limit) out += ", ...";
  return out;
}

}  // namespace endd::data
