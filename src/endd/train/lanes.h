#pragma once
// Independent jobs (the students of an experiment) run side by side: on the
// CPU one lane per core, each lane with one intra-op thread, beats one job at
// a time with all threads for small networks; on a GPU host threads overlap the
// launch overhead of tiny kernels.
#include <c10/core/Device.h>

#include <cstddef>
#include <functional>

namespace endd::train {

/// Lanes for `jobs` jobs on `device`: min(jobs, cores) on the CPU, one per job
/// on a GPU.
size_t lanes_for(size_t jobs, c10::Device device);

/// Runs job(0) .. job(count - 1) in `lanes` concurrent lanes: job i runs in
/// lane min(i, lanes - 1), so the first jobs (put the largest first) get a
/// lane each and the rest share the last one, in order. Each lane runs with
/// one intra-op thread (and OpenBLAS with one) when lanes > 1. The first exception is rethrown after
/// all lanes finish. Jobs must not depend on scheduling (own seeds, own data).
void run_in_lanes(size_t count, size_t lanes, const std::function<void(size_t)>& job);

}  // namespace endd::train
