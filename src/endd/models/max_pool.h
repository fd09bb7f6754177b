#pragma once
// 2x2 max-pooling (stride 2, floor mode) for the convolutional ensembles.
// LibTorch 1.13's CPU kernel for NCHW tensors measured ~10x slower than for
// channels-last ones (9 ms for the Fashion CNN's first pooling of a batch of
// 128 on one core, against 1 ms), which made pooling most of a CNN's forward
// pass; a plain loop over NCHW planes does it in a fraction of that, with
// at::max_pool2d's results and gradients bit for bit (issue 21).
#include <ATen/core/Tensor.h>

namespace endd::models {

/// max_pool2d(x, {2, 2}) of x [N, C, H, W]: the same outputs and the same
/// gradient (to the first maximum of each window in row-major order; a NaN
/// propagates, the last NaN taking the gradient, as LibTorch's CPU kernel).
/// Float32 and float64 on the CPU take the loop; anything else at::max_pool2d.
at::Tensor max_pool_2x2(const at::Tensor& x);

}  // namespace endd::models
