// main() of the Google Benchmark programs: the BLAS kernels endd itself
// would run with (core/runtime.h), then the benchmarks.
#include <benchmark/benchmark.h>

#include "endd/core/runtime.h"

int main(int argc, char** argv) {
  endd::select_blas_kernels(argv);
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::AddCustomContext("blas_kernels", endd::blas_kernels());
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
