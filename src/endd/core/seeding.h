#pragma once
// Deterministic seeds and generators: every random stream (a member's
// initialisation, its data order, a data set) has its own seed derived from the
// run seed, so results do not depend on the order in which streams are used.
#include <ATen/core/Generator.h>

#include <cstdint>

namespace endd {

/// A well-mixed 64-bit seed for stream `stream` of run seed `seed` (splitmix64).
uint64_t derive_seed(uint64_t seed, uint64_t stream);

/// A CPU generator seeded with `seed` (random numbers are drawn on the CPU and
/// moved to the device, so CPU and GPU runs start from the same weights).
at::Generator cpu_generator(uint64_t seed);

/// Stream ids, so two purposes never share a seed by accident.
enum class Stream : uint64_t {
  kTrainData = 1, kTestData, kAuxData, kOodData, kTransferJitter, kTransferViews, kSubset, kValidationSplit,
  kMemberInit = 1000, kMemberOrder = 2000,
  kStudentInit = 3000, kStudentOrder = 4000, kBootstrap = 5000, kDropout = 6000,
};
inline uint64_t derive_seed(uint64_t seed, Stream s, uint64_t index = 0) {
  return derive_seed(seed, static_cast<uint64_t>(s) * 1000003ULL + index);
}

}  // namespace endd
