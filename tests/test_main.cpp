// main() of the test programs: the BLAS kernels endd itself runs with
// (core/runtime.h), so that a run made inside a test and one made by the
// endd binary it spawns compute alike, then the tests.
#include <gtest/gtest.h>

#include "endd/core/runtime.h"

int main(int argc, char** argv) {
  endd::select_blas_kernels(argv);
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
