#include "endd/data/delimited_table.h"

#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>
#include <string_view>

#include "endd/core/atomic_file.h"
#include "endd/core/error.h"
#include "endd/data/field_padding.h"

namespace endd::data {
namespace {

std::string_view trim(std::string_view s, char delimiter) {
  // A tab is a delimiter in tab-separated files, not padding.
  auto pad = [&](char c) { return c == ' ' || (c == '\t' && delimiter != '\t'); };
  while (!s.empty() && pad(s.front())) s.remove_prefix(1);
  while (!s.empty() && pad(s.back())) s.remove_suffix(1);
  return s;
}

// One line split into fields. A field that starts with a quote runs to the
// closing quote ("" inside stands for one quote) and is stored unquoted.
struct Fields {
  std::vector<std::string_view> views;
  std::vector<std::string> unescaped;  // storage for quoted fields with "" inside
};

void split_line(std::string_view line, char delimiter, const std::string& path, int64_t line_no, Fields& out) {
  out.views.clear();
  out.unescaped.clear();
  size_t i = 0;
  while (true) {
    size_t start = i;
    while (i < line.size() && line[i] != delimiter && (line[i] == ' ' || (line[i] == '\t' && delimiter != '\t'))) ++i;
    if (i < line.size() && line[i] == '"') {
      std::string value;
      bool had_escape = false;
      size_t j = i + 1;
      for (;; ++j) {
        ENDD_CHECK(j < line.size(), path, ":", line_no, ": field ", out.views.size() + 1,
                   ": a quoted field has no closing quote");
        if (line[j] == '"') {
          if (j + 1 < line.size() && line[j + 1] == '"') {
            value += '"';
            had_escape = true;
            ++j;
            continue;
          }
          break;
        }
        value += line[j];
      }
      size_t k = j + 1;
      while (k < line.size() && line[k] != delimiter && is_field_padding(line[k])) ++k;
      ENDD_CHECK(k == line.size() || line[k] == delimiter, path, ":", line_no, ": field ", out.views.size() + 1,
                 ": text after a closing quote");
      if (had_escape) {
        // Views point into these strings, so they must never move.
        if (out.unescaped.empty()) out.unescaped.reserve(line.size() + 1);
        out.unescaped.push_back(std::move(value));
        out.views.push_back(out.unescaped.back());
      } else {
        out.views.push_back(line.substr(i + 1, j - i - 1));
      }
      i = k;
    } else {
      size_t e = line.find(delimiter, start);
      if (e == std::string_view::npos) e = line.size();
      out.views.push_back(trim(line.substr(start, e - start), delimiter));
      i = e;
    }
    if (i >= line.size()) break;
    ++i;  // past the delimiter
    if (i == line.size()) {  // a trailing delimiter: one more, empty field
      out.views.push_back(std::string_view());
      break;
    }
  }
}

bool parse_number(std::string_view s, double& out) {
  if (s.empty()) return false;
  // pandas writes boolean columns as True/False: features 1 and 0.
  if (s == "True" || s == "true" || s == "TRUE") return (out = 1.0), true;
  if (s == "False" || s == "false" || s == "FALSE") return (out = 0.0), true;
  if (s.front() == '+') s.remove_prefix(1);
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  if (ec == std::errc::result_out_of_range) {
    std::string copy(s);
    char* end = nullptr;
    out = std::strtod(copy.c_str(), &end);
    return end == copy.c_str() + copy.size();
  }
  return ec == std::errc() && ptr == s.data() + s.size();
}

bool is_number(std::string_view s) {
  double v;
  return parse_number(s, v);
}

// The delimiter of the first line: the most frequent of , ; and tab outside
// quotes (a comma on ties and when none occurs).
char sniff_delimiter(std::string_view line) {
  int64_t comma = 0, semicolon = 0, tab = 0;
  bool quoted = false;
  for (char c : line) {
    if (c == '"') quoted = !quoted;
    if (quoted) continue;
    comma += c == ',';
    semicolon += c == ';';
    tab += c == '\t';
  }
  if (semicolon > comma && semicolon >= tab) return ';';
  if (tab > comma && tab > semicolon) return '\t';
  return ',';
}

std::string excerpt(std::string_view s) {
  std::string out(s.substr(0, 40));
  for (char& c : out)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';  // never echo control bytes
  return out.empty() ? "(empty)" : "'" + out + (s.size() > 40 ? "...'" : "'");
}

bool is_missing_marker(std::string_view s) {
  return s.empty() || s == "NA" || s == "N/A" || s == "na" || s == "null" || s == "NULL" || s == "None" || s == "?";
}

}  // namespace

std::string DelimitedTable::describe_column(int64_t j) const {
  std::string where = "column " + std::to_string(j + 1);  // people count columns from 1
  if (j >= 0 && j < static_cast<int64_t>(header.size()) && !header[j].empty()) return "'" + header[j] + "' (" + where + ")";
  return where;
}

DelimitedTable parse_delimited_table(const std::string& text, const std::string& path,
                                     const TextColumnChooser& choose_text_column) {
  DelimitedTable t;
  t.path = path;
  std::string_view all(text);
  if (all.substr(0, 3) == "\xEF\xBB\xBF") all.remove_prefix(3);  // UTF-8 byte-order mark
  ENDD_CHECK(all.substr(0, 6) != "\x93NUMPY", path, ": is a numpy .npy file, not a delimited text file "
             "(save it with numpy.savetxt(..., delimiter=','))");
  const size_t nul = all.substr(0, 65536).find('\0');
  ENDD_CHECK(nul == std::string_view::npos, path, ": holds binary data (a NUL byte at offset ", nul,
             "); expected a delimited text file");

  // Content lines (non-blank), as views with their 1-based line numbers.
  std::vector<std::pair<std::string_view, int64_t>> lines;
  int64_t line_no = 0;
  for (size_t p = 0; p < all.size();) {
    ++line_no;
    size_t eol = all.find('\n', p);
    if (eol == std::string_view::npos) eol = all.size();
    std::string_view line = all.substr(p, eol - p);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    p = eol + 1;
    bool blank = true;
    for (char c : line) blank = blank && (is_field_padding(c) || c == '\r');
    if (!blank) lines.emplace_back(line, line_no);
  }
  ENDD_CHECK(!lines.empty(), path, ": the file is empty (expected one row per input)");
  t.delimiter = sniff_delimiter(lines[0].first);

  // A header line: the first line has text where the second has a number.
  Fields first, second;
  split_line(lines[0].first, t.delimiter, path, lines[0].second, first);
  bool header = false;
  if (lines.size() >= 2) {
    split_line(lines[1].first, t.delimiter, path, lines[1].second, second);
    for (size_t j = 0; j < first.views.size() && j < second.views.size(); ++j)
      header = header || (!is_number(first.views[j]) && is_number(second.views[j]));
  } else {  // a single line is a header only if nothing in it is a number
    header = true;
    for (auto f : first.views) header = header && !is_number(f);
  }
  const int64_t file_cols = static_cast<int64_t>(first.views.size());
  size_t skip = 0;  // leading columns dropped (pandas' index)
  if (header) {
    for (auto f : first.views) t.header.emplace_back(f);
    if (file_cols >= 2 && (t.header[0].empty() || t.header[0] == "Unnamed: 0")) {
      skip = 1;
      t.index_column_dropped = true;
      t.header.erase(t.header.begin());
    }
  }
  t.cols = file_cols - static_cast<int64_t>(skip);
  ENDD_CHECK(lines.size() > (header ? 1u : 0u), path, ": no data rows (the file holds only its header line)");
  t.text_column = choose_text_column(t.header, t.cols);
  ENDD_ASSERT(t.text_column >= -1 && t.text_column < t.cols);

  const size_t n = lines.size() - (header ? 1 : 0);
  t.values.reserve(n * static_cast<size_t>(t.cols));
  t.line_of_row.reserve(n);
  if (t.text_column >= 0) t.text.reserve(n);
  Fields fields;
  for (size_t r = header ? 1 : 0; r < lines.size(); ++r) {
    const int64_t at_line = lines[r].second;
    split_line(lines[r].first, t.delimiter, path, at_line, fields);
    ENDD_CHECK(static_cast<int64_t>(fields.views.size()) == file_cols, path, ":", at_line, ": expected ", file_cols,
               " fields (as in the ", header ? "header" : "first row", "), got ", fields.views.size());
    for (int64_t j = 0; j < t.cols; ++j) {
      std::string_view f = fields.views[static_cast<size_t>(j) + skip];
      if (j == t.text_column) {
        t.values.push_back(std::numeric_limits<double>::quiet_NaN());
        t.text.emplace_back(f);
        continue;
      }
      double v;
      if (!parse_number(f, v)) {
        ENDD_CHECK(!is_missing_marker(f), path, ":", at_line, ": ", t.describe_column(j), ": missing value ",
                   excerpt(f), "; every feature must be present (drop or fill such rows)");
        throw Error(detail::concat(path, ":", at_line, ": ", t.describe_column(j), ": expected a number, got ",
                                   excerpt(f), " (a text column can only be the label: --label-column NAME|INDEX)"));
      }
      ENDD_CHECK(std::isfinite(v), path, ":", at_line, ": ", t.describe_column(j), ": value ", excerpt(f),
                 " is not finite");
      t.values.push_back(v);
    }
    t.line_of_row.push_back(at_line);
  }
  t.rows = static_cast<int64_t>(n);
  return t;
}

DelimitedTable read_delimited_table(const std::string& path, const TextColumnChooser& choose_text_column) {
  return parse_delimited_table(read_file(path), path, choose_text_column);
}

}  // namespace endd::data
