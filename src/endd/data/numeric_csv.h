#pragma once
// A strict, fast reader for numeric CSV files (one row per input). Errors name
// the file, the line and the column.
#include <cstdint>
#include <string>
#include <vector>

namespace endd::data {

struct NumericTable {
  std::string path;
  int64_t rows = 0;
  int64_t cols = 0;
  std::vector<double> values;          ///< row-major, rows * cols
  std::vector<std::string> header;     ///< empty when the file had none
  std::vector<int64_t> line_of_row;    ///< 1-based source line of each row
};

struct CsvOptions {
  /// A first line with any non-numeric field is a header (and is skipped).
  bool allow_header = true;
  /// NaN and infinities are rejected unless this is set.
  bool allow_non_finite = false;
};

/// Reads a comma-separated numeric file. Empty lines are skipped; \r\n line
/// ends are accepted; spaces around fields are ignored. Throws endd::Error for
/// a missing or empty file, a non-numeric field, a row whose column count
/// differs from the first row's, or a non-finite value.
NumericTable read_numeric_csv(const std::string& path, const CsvOptions& options = {});

/// The same, parsing text already in memory (`path` only names it in errors).
NumericTable parse_numeric_csv(const std::string& text, const std::string& path,
                               const CsvOptions& options = {});

}  // namespace endd::data
