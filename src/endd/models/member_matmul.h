#pragma once
// Per-member matrix products of the vectorised ensembles ([M, rows, cols]
// stacks, one matrix per member). LibTorch 1.13's CPU bmm/baddbmm without
// MKL cuts the batch into M tensors and runs the full addmm machinery on each
// (views, checks, a BLAS call): 4% of the spiral's 100-member layers, 30% of
// their thin 2->64 and 64->3 products. Here each member is one BLAS call on
// raw pointers, with the same operands and flags as LibTorch's own call, so
// the results are the same bit for bit (issue 21).
#include <ATen/core/Tensor.h>

namespace endd::models {

/// c[m] = a[m] @ b[m] (accumulate: c[m] += a[m] @ b[m]) for every member m:
/// a [M, r, k], b [M, k, n], c [M, r, n]. a and b may be views whose matrices
/// are row-major or transposed (x.transpose(1, 2)) with any member stride
/// (0 for an input shared by all members); c must be contiguous. Float32 on
/// the CPU with a BLAS takes one BLAS call per member; anything else bmm.
void member_matmul_into(at::Tensor& c, const at::Tensor& a, const at::Tensor& b, bool accumulate = false);

/// Whether the build found a BLAS, so that row_major_gemm can be called.
bool have_blas();

/// One row-major product on raw pointers, c (r x n, row stride ldc) =
/// op(a) @ op(b) + beta * c, where op(a) is r x k and op(b) k x n; a holds
/// op(a) as it is (row stride lda) or, with trans_a, op(a)'s transpose
/// (k x r); likewise b. One BLAS call with the flags LibTorch's addmm passes
/// for such operands. Only where have_blas().
void row_major_gemm(bool trans_a, bool trans_b, int r, int n, int k, const float* a, int lda, const float* b, int ldb,
                    float beta, float* c, int ldc);

/// a @ b per member into a new contiguous [M, r, n] tensor.
at::Tensor member_matmul(const at::Tensor& a, const at::Tensor& b);

/// at::baddbmm(bias, h, w)'s values without autograd: the bias rows, then
/// the products added through member_matmul_into (a new contiguous tensor).
at::Tensor member_affine(const at::Tensor& h, const at::Tensor& w, const at::Tensor& bias);

/// at::baddbmm(bias, h, w) with its gradients (autograd): h [M, B, I] (an
/// expanded [B, I] input too), w [M, I, O], bias [M, 1, O] -> [M, B, O],
/// through member_matmul_into.
at::Tensor member_linear(const at::Tensor& h, const at::Tensor& w, const at::Tensor& bias);

}  // namespace endd::models
