#include "endd/report/csv_writer.h"

#include <ATen/ATen.h>

#include <charconv>

#include "endd/core/atomic_file.h"
#include "endd/core/error.h"

namespace endd::report {

namespace {

// RFC 4180: a field with a comma, quote or line break is quoted.
std::string quoted(const std::string& s) {
  if (s.find_first_of(",\"\r\n") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

}  // namespace

void write_csv(const std::string& path, const std::vector<CsvColumn>& columns, int digits) {
  ENDD_CHECK(!columns.empty(), path, ": no columns to write");
  auto length = [](const CsvColumn& c) {
    return c.values.defined() ? c.values.numel() : static_cast<int64_t>(c.text.size());
  };
  const int64_t n = length(columns[0]);
  std::vector<at::Tensor> data;
  std::vector<bool> integral;
  std::string out;
  for (size_t c = 0; c < columns.size(); ++c) {
    ENDD_CHECK(length(columns[c]) == n, path, ": column '", columns[c].name, "' has ", length(columns[c]),
               " values, expected ", n);
    const bool text = !columns[c].values.defined();
    bool is_int = !text && !at::isFloatingType(columns[c].values.scalar_type());
    integral.push_back(is_int);
    data.push_back(text ? at::Tensor()
                        : columns[c].values.cpu().contiguous().flatten().to(is_int ? at::kLong : at::kDouble));
    out += (c ? "," : "") + quoted(columns[c].name);
  }
  out += '\n';
  out.reserve(out.size() + static_cast<size_t>(n) * columns.size() * 14);
  char buf[64];
  for (int64_t i = 0; i < n; ++i) {
    for (size_t c = 0; c < data.size(); ++c) {
      if (c) out += ',';
      std::to_chars_result r;
      if (!data[c].defined()) {
        out += quoted(columns[c].text[static_cast<size_t>(i)]);
        continue;
      } else if (integral[c]) {
        r = std::to_chars(buf, buf + sizeof buf, data[c].data_ptr<int64_t>()[i]);
      } else {
        double v = data[c].data_ptr<double>()[i];
        r = std::to_chars(buf, buf + sizeof buf, v == 0 ? 0.0 : v, std::chars_format::general, digits);
      }
      out.append(buf, r.ptr);
    }
    out += '\n';
  }
  write_file_atomic(path, out);
}

}  // namespace endd::report
