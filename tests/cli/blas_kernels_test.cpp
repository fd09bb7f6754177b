// endd runs with the BLAS kernels the CPU allows (core/runtime.h): started
// without OPENBLAS_CORETYPE, it names in --version the family it settled
// on, which is the one the CPU's instruction set allows where OpenBLAS's own
// choice (made from the CPU model number) is weaker; a user's setting stands.
#include <gtest/gtest.h>

#include <cstdio>
#include <string>

#include "endd/core/runtime.h"

namespace {

std::string output_of(const std::string& command) {
  std::string out;
  FILE* pipe = ::popen(command.c_str(), "r");
  if (!pipe) return out;
  char buffer[256];
  while (std::fgets(buffer, sizeof buffer, pipe)) out += buffer;
  ::pclose(pipe);
  return out;
}

}  // namespace

TEST(BlasKernelsTest, EnddRunsWithTheKernelsTheCpuAllows) {
  const std::string chosen = endd::chosen_blas_kernels();
  const std::string version = output_of(std::string("env -u OPENBLAS_CORETYPE ") + ENDD_BINARY + " --version");
  ASSERT_EQ(version.rfind("endd ", 0), 0u) << version;
  if (chosen.empty()) {  // not OpenBLAS (e.g. a CUDA LibTorch with MKL)
    EXPECT_EQ(version.find("OpenBLAS"), std::string::npos) << version;
    return;
  }
  // The family it names, unaided, is one the CPU's instruction set allows in
  // full (the test program itself may run with a user's OPENBLAS_CORETYPE).
  const size_t at = version.find("OpenBLAS ");
  ASSERT_NE(at, std::string::npos) << version;
  const std::string family = version.substr(at + 9, version.find(' ', at + 9) - at - 9);
  if (endd::cpu_kernel_level() >= 0 && endd::blas_kernel_level(family) >= 0)
    EXPECT_EQ(endd::blas_kernel_level(family), endd::cpu_kernel_level()) << version;
  // A user's choice is kept as it is.
  const std::string mine = output_of(std::string("OPENBLAS_CORETYPE=Prescott ") + ENDD_BINARY + " --version");
  EXPECT_NE(mine.find("OpenBLAS Prescott kernels"), std::string::npos) << mine;
}

// Where the build found tcmalloc it serves malloc in endd and in the test
// programs (CMakeLists.txt: glibc's per-thread arenas page-faulted on large
// tensors); `endd --version` names the allocator either way.
TEST(BlasKernelsTest, TheAllocatorIsNamedAndIsTcmallocWhereLinked) {
  const std::string version = output_of(std::string(ENDD_BINARY) + " --version");
#ifdef ENDD_WITH_TCMALLOC
  EXPECT_EQ(endd::memory_allocator(), "tcmalloc");
  EXPECT_NE(version.find(", tcmalloc)"), std::string::npos) << version;
#else
  EXPECT_EQ(endd::memory_allocator(), "glibc malloc");
  EXPECT_NE(version.find(", glibc malloc)"), std::string::npos) << version;
#endif
}
