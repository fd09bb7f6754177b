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

/// OpenBLAS picks its kernels by the CPU's model number, and on a CPU it does
/// not know (a virtual machine's "Intel Xeon Processor") falls back to
/// Prescott's SSE3 kernels: a 2048^2 sgemm ran at 28 GFLOP/s on one core of
/// an AVX-512 Xeon where the SkylakeX kernels reach 139, and the 100-member
/// spiral step took 43 ms instead of 20 (docs/threads.md). When OpenBLAS's
/// choice is weaker than the instruction set the CPU reports, this
/// re-executes the program (`argv`, the same process id) with
/// OPENBLAS_CORETYPE naming the kernels the CPU can run: OpenBLAS reads it
/// only when it loads. Nothing happens when OPENBLAS_CORETYPE is set (so
/// a user's choice stands and the re-executed program goes on), when the
/// BLAS is not OpenBLAS, or when its choice already fits. Call first in main.
void select_blas_kernels(char** argv);

/// OpenBLAS's kernel family in use ("SkylakeX", "Haswell", ...), or "" when
/// the BLAS is not OpenBLAS.
std::string blas_kernels();

/// The family select_blas_kernels settles on: the one in use, or the one the
/// CPU's instruction set allows where that is stronger ("" without OpenBLAS).
std::string chosen_blas_kernels();

/// How much of the x86 vector ISA an OpenBLAS kernel family uses: 0 SSE,
/// 1 AVX, 2 AVX2 + FMA, 3 AVX-512; -1 for a family not known here.
int blas_kernel_level(const std::string& family);
/// The most of that scale this CPU runs (-1 off x86).
int cpu_kernel_level();

/// With glibc's malloc: keeps large tensor buffers on the heap instead of
/// mmap (measured: the kernel time of per-step mmap/munmap dominated
/// small-network training). Nothing to do under tcmalloc. Called by
/// configure_threads; idempotent.
void configure_allocator();
/// "tcmalloc" when it serves this process's malloc, else "glibc malloc".
std::string memory_allocator();

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
