// Writes member probabilities [N, M, K] for end-to-end benchmarks of
// `endd uncertainty`: a torch.save-compatible .pt file and, optionally, a CSV.
#include <ATen/ATen.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "endd/data/tensor_file.h"
#include "endd/report/csv_writer.h"

int main(int argc, char** argv) {
  if (argc < 5) {
    std::fprintf(stderr, "usage: endd_make_bench_data N M K OUT.pt [OUT.csv]\n");
    return 2;
  }
  const int64_t n = std::atoll(argv[1]), m = std::atoll(argv[2]), k = std::atoll(argv[3]);
  at::manual_seed(0);
  at::Tensor probs = at::softmax(at::randn({n, m, k}) * 2, -1);
  endd::data::save_tensor_file(argv[4], probs);
  if (argc > 5) {
    std::vector<endd::report::CsvColumn> cols;
    at::Tensor flat = probs.view({n, m * k});
    for (int64_t c = 0; c < m * k; ++c) cols.push_back({"p" + std::to_string(c), flat.select(1, c)});
    endd::report::write_csv(argv[5], cols, 7);
  }
  return 0;
}
