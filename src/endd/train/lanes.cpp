#include "endd/train/lanes.h"

#include "endd/core/runtime.h"

#include <ATen/Parallel.h>

#include <algorithm>
#include <exception>
#include <future>
#include <thread>
#include <vector>

namespace endd::train {

size_t lanes_for(size_t jobs, c10::Device device) {
  if (!device.is_cpu()) return std::max<size_t>(jobs, 1);
  const size_t cores = std::max(1u, std::thread::hardware_concurrency());
  return std::max<size_t>(1, std::min(jobs, cores));
}

void run_in_lanes(size_t count, size_t lanes, const std::function<void(size_t)>& job) {
  lanes = std::max<size_t>(1, std::min(lanes, count));
  const int threads = at::get_num_threads();
  const bool flush = flushing_denormals();
  // OpenBLAS keeps one pool for the process: two lanes' GEMMs in a shared
  // 2-thread pool measured 3-5x slower per step (docs/threads.md).
  if (lanes > 1) set_blas_threads(1);
  auto run_lane = [&](size_t lane) {
    // OpenMP thread counts are per thread: set this lane's own.
    at::set_num_threads(lanes > 1 && threads > 1 ? 1 : threads);
    set_flush_denormals(flush);  // floating-point modes are per thread too
    for (size_t i = 0; i < count; ++i)
      if (std::min(i, lanes - 1) == lane) job(i);
  };
  std::vector<std::future<void>> others;
  for (size_t lane = 1; lane < lanes; ++lane) others.push_back(std::async(std::launch::async, run_lane, lane));
  std::exception_ptr first;
  try {
    run_lane(0);
  } catch (...) {
    first = std::current_exception();
  }
  for (auto& f : others) {
    try {
      f.get();
    } catch (...) {
      if (!first) first = std::current_exception();
    }
  }
  at::set_num_threads(threads);
  if (lanes > 1) set_blas_threads(threads);
  if (first) std::rethrow_exception(first);
}

}  // namespace endd::train
