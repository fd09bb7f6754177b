#include "endd/data/numeric_csv.h"

#include <charconv>
#include <cmath>
#include <cstring>

#include "endd/core/atomic_file.h"
#include "endd/core/error.h"
#include "endd/data/field_padding.h"

namespace endd::data {
namespace {

// Parses one field [b, e); false if it is not a complete number.
inline bool parse_field(const char* b, const char* e, double& out) {
  while (b < e && is_field_padding(*b)) ++b;
  while (e > b && is_field_padding(e[-1])) --e;
  if (b == e) return false;
  if (*b == '+') ++b;  // from_chars rejects a leading '+'
  auto [ptr, ec] = std::from_chars(b, e, out);
  if (ec == std::errc::result_out_of_range) {
    // Denormal or huge: let strtod decide (gives 0 or inf).
    std::string s(b, e);
    char* end = nullptr;
    out = std::strtod(s.c_str(), &end);
    return end == s.c_str() + s.size();
  }
  return ec == std::errc() && ptr == e;
}

std::string excerpt(const char* b, const char* e) {
  std::string s(b, std::min<size_t>(static_cast<size_t>(e - b), 40));
  while (!s.empty() && is_field_padding(s.front())) s.erase(s.begin());
  while (!s.empty() && is_field_padding(s.back())) s.pop_back();
  return s;
}

}  // namespace

NumericTable parse_numeric_csv(const std::string& text, const std::string& path,
                               const CsvOptions& options) {
  NumericTable table;
  table.path = path;
  const char* p = text.data();
  const char* end = p + text.size();
  int64_t line = 0;
  bool first_content_line = true;
  while (p < end) {
    ++line;
    const char* eol = static_cast<const char*>(std::memchr(p, '\n', static_cast<size_t>(end - p)));
    if (!eol) eol = end;
    const char* line_end = (eol > p && eol[-1] == '\r') ? eol - 1 : eol;
    const char* q = p;
    p = eol + 1;
    // Skip empty (or whitespace-only) lines.
    const char* t = q;
    while (t < line_end && is_field_padding(*t)) ++t;
    if (t == line_end) continue;

    size_t row_start = table.values.size();
    int64_t col = 0;
    bool header_line = false;
    std::vector<std::string> fields_if_header;
    while (true) {
      const char* comma = static_cast<const char*>(std::memchr(q, ',', static_cast<size_t>(line_end - q)));
      const char* fe = comma ? comma : line_end;
      double v;
      ++col;
      if (!parse_field(q, fe, v)) {
        if (first_content_line && options.allow_header) {
          header_line = true;
        } else {
          std::string f = excerpt(q, fe);
          throw Error(detail::concat(path, ":", line, ": column ", col, ": expected a number, got '",
                                     f.empty() ? std::string("(empty)") : f, "'"));
        }
      } else if (!options.allow_non_finite && !std::isfinite(v)) {
        throw Error(detail::concat(path, ":", line, ": column ", col, ": value '", excerpt(q, fe),
                                   "' is not finite"));
      }
      if (first_content_line) fields_if_header.push_back(excerpt(q, fe));
      if (!header_line) table.values.push_back(v);
      if (!comma) break;
      q = comma + 1;
    }
    if (first_content_line) {
      first_content_line = false;
      table.cols = col;
      if (header_line) {
        table.values.resize(row_start);
        table.header = std::move(fields_if_header);
        continue;
      }
    } else if (col != table.cols) {
      throw Error(detail::concat(path, ":", line, ": expected ", table.cols, " columns (as in the ",
                                 table.header.empty() ? "first row" : "header", "), got ", col));
    }
    table.line_of_row.push_back(line);
    ++table.rows;
  }
  ENDD_CHECK(table.rows > 0, path, ": no data rows (the file is empty",
             table.header.empty() ? "" : " apart from its header", ")");
  return table;
}

NumericTable read_numeric_csv(const std::string& path, const CsvOptions& options) {
  return parse_numeric_csv(read_file(path), path, options);
}

}  // namespace endd::data
