#include "endd/core/seeding.h"

#include <ATen/CPUGeneratorImpl.h>

namespace endd {

uint64_t derive_seed(uint64_t seed, uint64_t stream) {
  uint64_t z = seed + 0x9e3779b97f4a7c15ULL * (stream + 1);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

at::Generator cpu_generator(uint64_t seed) { return at::detail::createCPUGenerator(seed); }

}  // namespace endd
