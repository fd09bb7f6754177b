#include "endd/models/max_pool.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <torch/csrc/autograd/custom_function.h>

#include <algorithm>

namespace endd::models {

namespace {

// Per output: the window's maximum and which of its four inputs it came
// from (0 top-left, 1 top-right, 2 bottom-left, 3 bottom-right), scanned in
// row-major order with LibTorch's rule: a value replaces the maximum when it
// is greater or NaN (x != x). Without NaN that is the first maximum.
template <typename T>
void pool_forward(const T* in, T* out, uint8_t* which, int64_t planes, int64_t H, int64_t W) {
  const int64_t oh = H / 2, ow = W / 2;
  at::parallel_for(0, planes, 1, [&](int64_t begin, int64_t end) {
    for (int64_t p = begin; p < end; ++p) {
      const T* plane = in + p * H * W;
      T* o = out + p * oh * ow;
      uint8_t* k = which + p * oh * ow;
      for (int64_t i = 0; i < oh; ++i) {
        const T* r0 = plane + 2 * i * W;
        const T* r1 = r0 + W;
        T* orow = o + i * ow;
        uint8_t* krow = k + i * ow;
        for (int64_t j = 0; j < ow; ++j) {
          const T window[4] = {r0[2 * j], r0[2 * j + 1], r1[2 * j], r1[2 * j + 1]};
          const bool nan = (window[0] != window[0]) | (window[1] != window[1]) | (window[2] != window[2]) |
                           (window[3] != window[3]);
          uint32_t at = 0;
          if (__builtin_expect(nan, 0)) {
            for (uint32_t w = 1; w < 4; ++w)
              if (window[w] > window[at] || window[w] != window[w]) at = w;
          } else {
            // The first of the four equal to their maximum, in arithmetic
            // rather than branches: which one it is is random, and a branch per
            // comparison mispredicted often enough to make this 3x slower.
            const T top = std::max(std::max(window[0], window[1]), std::max(window[2], window[3]));
            const uint32_t not0 = window[0] != top, not1 = window[1] != top, not2 = window[2] != top;
            at = not0 * (1 + not1 * (1 + not2));
          }
          orow[j] = window[at];
          krow[j] = static_cast<uint8_t>(at);
        }
      }
    }
  });
}

// Each output's gradient to the input it came from; every other input 0.
template <typename T>
void pool_backward(const T* grad_out, const uint8_t* which, T* grad_in, int64_t planes, int64_t H, int64_t W) {
  const int64_t oh = H / 2, ow = W / 2;
  at::parallel_for(0, planes, 1, [&](int64_t begin, int64_t end) {
    for (int64_t p = begin; p < end; ++p) {
      T* plane = grad_in + p * H * W;
      const T* g = grad_out + p * oh * ow;
      const uint8_t* k = which + p * oh * ow;
      std::fill(plane, plane + H * W, T(0));
      for (int64_t i = 0; i < oh; ++i)
        for (int64_t j = 0; j < ow; ++j) {
          const uint8_t w = k[i * ow + j];
          plane[(2 * i + (w >> 1)) * W + 2 * j + (w & 1)] = g[i * ow + j];
        }
    }
  });
}

struct MaxPool2x2 : torch::autograd::Function<MaxPool2x2> {
  static at::Tensor forward(torch::autograd::AutogradContext* ctx, const at::Tensor& input) {
    const at::Tensor x = input.contiguous();
    const int64_t N = x.size(0), C = x.size(1), H = x.size(2), W = x.size(3);
    at::Tensor out = at::empty({N, C, H / 2, W / 2}, x.options());
    at::Tensor which = at::empty({N, C, H / 2, W / 2}, x.options().dtype(at::kByte));
    AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "max_pool_2x2", [&] {
      pool_forward(x.data_ptr<scalar_t>(), out.data_ptr<scalar_t>(), which.data_ptr<uint8_t>(), N * C, H, W);
    });
    ctx->save_for_backward({which});
    ctx->saved_data["height"] = H;
    ctx->saved_data["width"] = W;
    return out;
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grads) {
    const at::Tensor which = ctx->get_saved_variables()[0];
    const at::Tensor g = grads[0].contiguous();
    const int64_t H = ctx->saved_data["height"].toInt(), W = ctx->saved_data["width"].toInt();
    const int64_t N = which.size(0), C = which.size(1);
    at::Tensor grad_in = at::empty({N, C, H, W}, g.options());
    AT_DISPATCH_FLOATING_TYPES(g.scalar_type(), "max_pool_2x2_backward", [&] {
      pool_backward(g.data_ptr<scalar_t>(), which.data_ptr<uint8_t>(), grad_in.data_ptr<scalar_t>(), N * C, H, W);
    });
    return {grad_in};
  }
};

}  // namespace

at::Tensor max_pool_2x2(const at::Tensor& x) {
  const bool loop = x.device().is_cpu() && x.dim() == 4 && x.layout() == at::kStrided &&
                    (x.scalar_type() == at::kFloat || x.scalar_type() == at::kDouble) && x.size(2) >= 2 &&
                    x.size(3) >= 2;
  if (!loop) return at::max_pool2d(x, {2, 2});
  return MaxPool2x2::apply(x);
}

}  // namespace endd::models
