#pragma once
// Column-oriented CSV output: named float64 columns of equal length, written
// atomically with 9 significant digits (round-trips float32; enough for plots).
#include <ATen/core/Tensor.h>

#include <string>
#include <vector>

namespace endd::report {

struct CsvColumn {
  std::string name;
  at::Tensor values;  ///< [N], any numeric dtype; integers are written as integers
  std::vector<std::string> text = {};  ///< a text column instead (when `values` is undefined), quoted as needed
};

/// Writes header + N rows (negative zero as 0). Throws endd::Error if lengths differ or the file
/// cannot be written; an existing file is replaced only once the new one is complete.
void write_csv(const std::string& path, const std::vector<CsvColumn>& columns, int digits = 9);

}  // namespace endd::report
