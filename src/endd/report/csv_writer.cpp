#include "endd/report/csv_writer.h"

#include <ATen/ATen.h>

#include <charconv>

#include "endd/core/atomic_file.h"
#include "endd/core/error.h"

namespace endd::report {

void write_csv(const std::string& path, const std::vector<CsvColumn>& columns, int digits) {
  ENDD_CHECK(!columns.empty(), path, ": no columns to write");
  const int64_t n = columns[0].values.numel();
  std::vector<at::Tensor> data;
  std::vector<bool> integral;
  std::string out;
  for (size_t c = 0; c < columns.size(); ++c) {
    ENDD_CHECK(columns[c].values.numel() == n, path, ": column '", columns[c].name, "' has ",
               columns[c].values.numel(), " values, expected ", n);
    bool is_int = !at::isFloatingType(columns[c].values.scalar_type());
    integral.push_back(is_int);
    data.push_back(columns[c].values.cpu().contiguous().flatten().to(is_int ? at::kLong : at::kDouble));
    out += (c ? "," : "") + columns[c].name;
  }
  out += '\n';
  out.reserve(out.size() + static_cast<size_t>(n) * columns.size() * 14);
  char buf[64];
  for (int64_t i = 0; i < n; ++i) {
    for (size_t c = 0; c < data.size(); ++c) {
      if (c) out += ',';
      std::to_chars_result r;
      if (integral[c]) {
        r = std::to_chars(buf, buf + sizeof buf, data[c].data_ptr<int64_t>()[i]);
      } else {
        r = std::to_chars(buf, buf + sizeof buf, data[c].data_ptr<double>()[i],
                          std::chars_format::general, digits);
      }
      out.append(buf, r.ptr);
    }
    out += '\n';
  }
  write_file_atomic(path, out);
}

}  // namespace endd::report
