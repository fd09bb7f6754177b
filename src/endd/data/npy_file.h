#pragma once
// numpy's .npy files (format 1.0 to 3.0), the format most Python users hold
// arrays in: what numpy.save writes. Read by a small checked reader (covered
// by the fuzz harness): every size is checked against the file before
// anything is allocated, and errors name the file.
#include <ATen/core/Tensor.h>

#include <string>
#include <vector>

namespace endd::data {

/// An array read from a .npy file: numbers as a C-contiguous tensor (float32,
/// float64, int64 for every integer type, bool as uint8), or, for numpy's
/// fixed-width text ('<U'/'|S'), the strings in C order with their shape.
struct NpyArray {
  std::vector<int64_t> shape;
  at::Tensor values;                ///< undefined for text arrays
  std::vector<std::string> text;    ///< text arrays only (UTF-8)
  bool is_text() const { return !values.defined(); }
};

/// Parses .npy bytes: little- or big-endian float16/32/64, signed and unsigned
/// integers, bool, fixed-width text; C or Fortran order. Refuses object and
/// structured arrays and anything truncated or trailing, naming `path`.
NpyArray parse_npy(const std::vector<char>& bytes, const std::string& path);
NpyArray read_npy(const std::string& path);

/// True if the file starts with numpy's magic "\x93NUMPY".
bool is_npy_file(const std::string& path);

}  // namespace endd::data
