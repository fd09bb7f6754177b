#include "endd/core/runtime.h"

#include <ATen/Parallel.h>
#include <torch/cuda.h>

#include "endd/core/error.h"

namespace endd {

void configure_threads(int threads) {
  int n = threads > 0 ? threads : 1;
  at::set_num_threads(n);
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
