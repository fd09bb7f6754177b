#pragma once
// A user's delimited text file (CSV, semicolon- or tab-separated) read as a
// table of numbers with at most one text column (the label). It accepts what
// ordinary files hold: a UTF-8 byte-order mark, \r\n line ends, a header line
// (found by comparing the first two lines), quoted fields, and the unnamed
// index column that pandas' to_csv writes first (dropped). Errors name the
// file, the line and the column.
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace endd::data {

struct DelimitedTable {
  std::string path;
  char delimiter = ',';
  std::vector<std::string> header;  ///< column names, empty when the file has no header line
  bool index_column_dropped = false;
  int64_t rows = 0, cols = 0;       ///< after dropping an index column
  std::vector<double> values;       ///< row-major rows * cols; NaN in the text column
  int64_t text_column = -1;         ///< the column kept as text, -1 for none
  std::vector<std::string> text;    ///< rows values of `text_column`, trimmed and unquoted
  std::vector<int64_t> line_of_row; ///< 1-based source line of each row

  /// "'name' (column j+1)" or "column j+1" for the 0-based index j: messages
  /// count columns from 1, as people do.
  std::string describe_column(int64_t j) const;
};

/// Chooses, once the header and column count are known, which column (if any)
/// to keep as text: returns its 0-based index or -1. May throw endd::Error.
using TextColumnChooser = std::function<int64_t(const std::vector<std::string>& header, int64_t cols)>;

/// Parses `text` (`path` names it in errors). Every column other than the
/// chosen text column must hold a finite number in every row.
DelimitedTable parse_delimited_table(const std::string& text, const std::string& path,
                                     const TextColumnChooser& choose_text_column);

DelimitedTable read_delimited_table(const std::string& path, const TextColumnChooser& choose_text_column);

}  // namespace endd::data
