#include "endd/core/runtime.h"

#include <ATen/Context.h>
#include <ATen/Parallel.h>
#include <torch/cuda.h>

#include "endd/core/error.h"

#include <dlfcn.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <map>
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
  if (memory_allocator() == "tcmalloc") return;  // its mallopt does nothing
  mallopt(M_MMAP_THRESHOLD, 1 << 30);
  mallopt(M_TRIM_THRESHOLD, 1 << 30);
  mallopt(M_TOP_PAD, 64 << 20);
}

std::string memory_allocator() {
  // tcmalloc exports its own entry points beside malloc.
  return ::dlsym(RTLD_DEFAULT, "tc_malloc") ? "tcmalloc" : "glibc malloc";
}

void set_blas_threads(int n) {
  // LibTorch's set_num_threads reaches OpenMP and MKL but not OpenBLAS, whose
  // pthread build keeps its own pool sized to the machine. Two GEMMs from two
  // threads then fight over it (measured 3-5x slower steps), so set it here
  // when the BLAS in use is OpenBLAS.
  using SetThreads = void (*)(int);
  if (auto fn = reinterpret_cast<SetThreads>(::dlsym(RTLD_DEFAULT, "openblas_set_num_threads"))) fn(n);
}

int blas_kernel_level(const std::string& name) {
  static const std::map<std::string, int> levels{
      {"Katmai", 0},     {"Coppermine", 0}, {"Northwood", 0},  {"Prescott", 0},      {"Banias", 0},
      {"Core2", 0},      {"Penryn", 0},     {"Dunnington", 0}, {"Nehalem", 0},       {"Atom", 0},
      {"Opteron", 0},    {"Opteron(SSE3)", 0}, {"Barcelona", 0}, {"Nano", 0},       {"Sandybridge", 1},
      {"Bulldozer", 1},  {"Piledriver", 1}, {"Haswell", 2},    {"Steamroller", 2},   {"Excavator", 2},
      {"Zen", 2},        {"SkylakeX", 3},   {"Cooperlake", 3}, {"SapphireRapids", 3}};
  auto it = levels.find(name);
  return it == levels.end() ? -1 : it->second;
}

int cpu_kernel_level() {
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
      __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq"))
    return 3;
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return 2;
  if (__builtin_cpu_supports("avx")) return 1;
  return 0;
#else
  return -1;
#endif
}

std::string blas_kernels() {
  using CoreName = char* (*)();
  auto fn = reinterpret_cast<CoreName>(::dlsym(RTLD_DEFAULT, "openblas_get_corename"));
  const char* name = fn ? fn() : nullptr;
  return name ? std::string(name) : std::string();
}

namespace {
const char* kFamilies[] = {"Prescott", "Sandybridge", "Haswell", "SkylakeX"};  // by kernel_level
}  // namespace

std::string chosen_blas_kernels() {
  const std::string in_use = blas_kernels();
  const int level = blas_kernel_level(in_use), cpu = cpu_kernel_level();
  return level >= 0 && cpu > level ? kFamilies[cpu] : in_use;
}

void select_blas_kernels(char** argv) {
  if (std::getenv("OPENBLAS_CORETYPE")) return;
  const std::string chosen = chosen_blas_kernels();
  if (chosen == blas_kernels()) return;
  ::setenv("OPENBLAS_CORETYPE", chosen.c_str(), 1);
  ::execv("/proc/self/exe", argv);  // returns only on failure: go on with the kernels in use
  ::unsetenv("OPENBLAS_CORETYPE");
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
