#include <cstring>

#include "cli_common.h"
#include "endd/core/runtime.h"

int main(int argc, char** argv) {
  bool help = argc < 2;
  for (int i = 1; i < argc; ++i) help = help || !std::strcmp(argv[i], "-h") || !std::strcmp(argv[i], "--help");
  // May start the program again with better BLAS kernels (not worth it for help).
  if (!help) endd::select_blas_kernels(argv);
  return endd::cli::run_cli(argc, argv);
}
