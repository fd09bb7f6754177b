#pragma once
// Process-wide settings a command applies once at start: thread counts and the
// compute device. The library itself takes devices as arguments.
#include <c10/core/Device.h>

#include <string>

namespace endd {

/// Sets LibTorch intra-op and inter-op thread counts. `threads` <= 0 picks the
/// default measured best for small networks (see docs/threads.md): one thread.
void configure_threads(int threads);

/// Sets OpenBLAS's own thread pool size, if OpenBLAS is the BLAS in use.
void set_blas_threads(int n);

/// Keeps large tensor buffers on the heap instead of mmap (measured: the
/// kernel time of per-step mmap/munmap dominated small-network training).
/// Called by configure_threads; idempotent.
void configure_allocator();

/// Parses "cpu" or "cuda[:N]"; throws endd::Error if CUDA is asked for but this
/// build or machine has none.
c10::Device parse_device(const std::string& name);

}  // namespace endd
