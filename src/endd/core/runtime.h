#pragma once
// Process-wide settings a command applies once at start: thread counts and the
// compute device. The library itself takes devices as arguments.
#include <c10/core/Device.h>

#include <string>

namespace endd {

/// What a command mostly does, which decides its default thread count
/// (docs/threads.md): small-network training runs fastest on one thread;
/// elementwise work on large tensors scales with the cores.
enum class Workload { kTraining, kLargeTensors };

/// Sets LibTorch intra-op and OpenBLAS thread counts (and flushes denormals). `threads` <= 0 picks the
/// measured default for the workload: 1 for training, all cores otherwise.
void configure_threads(int threads, Workload workload = Workload::kTraining);

/// Sets OpenBLAS's own thread pool size, if OpenBLAS is the BLAS in use.
void set_blas_threads(int n);

/// Keeps large tensor buffers on the heap instead of mmap (measured: the
/// kernel time of per-step mmap/munmap dominated small-network training).
/// Called by configure_threads; idempotent.
void configure_allocator();

/// Whether this thread flushes denormal floats to zero (x86: MXCSR FTZ and
/// DAZ), and setting it. configure_threads turns it on: Adam's moments of
/// parameters whose gradient stays 0 decay into denormals, whose arithmetic
/// is ~100x slower on x86; a student's step measured 1.3x faster with it
/// (docs/threads.md). Values below 1.2e-38 become 0. Each thread has its
/// own: worker threads take their starter's (train/lanes.h).
bool flushing_denormals();
void set_flush_denormals(bool on);

/// Parses "cpu" or "cuda[:N]"; throws endd::Error if CUDA is asked for but this
/// build or machine has none.
c10::Device parse_device(const std::string& name);

}  // namespace endd
