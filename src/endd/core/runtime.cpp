#include "endd/core/runtime.h"

#include <ATen/Context.h>
#include <ATen/Parallel.h>
#include <torch/cuda.h>

#include "endd/core/error.h"

#include <dlfcn.h>

#include <algorithm>
#include <thread>
#include <malloc.h>
#if defined(__SSE__) || defined(__x86_64__)
#include <xmmintrin.h>
#endif

namespace endd {

void configure_allocator() {
  // Training allocates and frees multi-megabyte tensors every step. glibc
  // serves those with mmap/munmap by default, and the page faults made the
  // 100-member spiral training spend ~40% of its time in the kernel; keeping
  // them on the heap measured 1.4x faster (docs/threads.md).
  static bool done = false;
  if (done) return;
  done = true;
  mallopt(M_MMAP_THRESHOLD, 1 << 30);
  mallopt(M_TRIM_THRESHOLD, 1 << 30);
  mallopt(M_TOP_PAD, 64 << 20);
}

void set_blas_threads(int n) {
  // LibTorch's set_num_threads reaches OpenMP and MKL but not OpenBLAS, whose
  // pthread build keeps its own pool sized to the machine. Two GEMMs from two
  // threads then fight over it (measured 3-5x slower steps), so set it here
  // when the BLAS in use is OpenBLAS.
  using SetThreads = void (*)(int);
  if (auto fn = reinterpret_cast<SetThreads>(::dlsym(RTLD_DEFAULT, "openblas_set_num_threads"))) fn(n);
}

bool flushing_denormals() {
#if defined(__SSE__) || defined(__x86_64__)
  return (_mm_getcsr() & 0x8040) == 0x8040;  // FTZ (bit 15) and DAZ (bit 6)
#else
  return false;
#endif
}

void set_flush_denormals(bool on) { at::globalContext().setFlushDenormal(on); }

void configure_threads(int threads, Workload workload) {
  configure_allocator();
  set_flush_denormals(true);
  int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  int n = threads > 0 ? threads : (workload == Workload::kTraining ? 1 : cores);
  at::set_num_threads(n);
  set_blas_threads(n);
  // Inter-op threads can only be set once per process, before any parallel work.
  static bool interop_set = false;
  if (!interop_set) {
    interop_set = true;
    try {
      at::set_num_interop_threads(1);
    } catch (const std::exception&) {
      // Already used: keep LibTorch's choice.
    }
  }
}

c10::Device parse_device(const std::string& name) {
  ENDD_CHECK(name == "cpu" || name.rfind("cuda", 0) == 0, "--device: expected cpu or cuda[:N], got '",
             name, "'");
  if (name == "cpu") return c10::Device(c10::kCPU);
  ENDD_CHECK(torch::cuda::is_available(), "--device ", name,
             ": this endd was built without CUDA or no GPU is visible; build against a CUDA "
             "LibTorch (see README) or use --device cpu");
  try {
    return c10::Device(name);
  } catch (const std::exception&) {
    throw Error("--device: cannot parse '" + name + "', expected cuda or cuda:N");
  }
}

}  // namespace endd
