#include "endd/models/member_matmul.h"

#include <ATen/ATen.h>
#include <torch/csrc/autograd/custom_function.h>

#include <algorithm>
#include <climits>

#include "endd/core/error.h"

#ifdef ENDD_HAVE_BLAS
extern "C" void sgemm_(const char* transa, const char* transb, const int* m, const int* n, const int* k,
                       const float* alpha, const float* a, const int* lda, const float* b, const int* ldb,
                       const float* beta, float* c, const int* ldc);
#endif

namespace endd::models {

namespace {

#ifdef ENDD_HAVE_BLAS
// One operand of the column-major call, as LibTorch's addmm_impl_cpu_ casts
// it for a row-major result (C^T = B^T A^T): `rows` x `cols` is the row-major
// matrix it holds, `lead` the BLAS dimension it must cover when stored as it
// is. Row-major (unit column stride) passes as it is ('N'), a transposed view
// (unit row stride) as 'T'; anything else is not for this path.
struct Operand {
  const float* data = nullptr;
  int64_t member_stride = 0;
  int ld = 0;
  char trans = 'N';
};

bool as_operand(const at::Tensor& x, int64_t lead_n, int64_t lead_t, Operand& op) {
  const int64_t row_stride = x.stride(1), col_stride = x.stride(2);
  if (col_stride == 1 && row_stride >= std::max<int64_t>(1, lead_n)) {
    op.ld = static_cast<int>(row_stride);
    op.trans = 'N';
  } else if (row_stride == 1 && col_stride >= std::max<int64_t>(1, lead_t)) {
    op.ld = static_cast<int>(col_stride);
    op.trans = 'T';
  } else {
    return false;
  }
  if (row_stride > INT_MAX || col_stride > INT_MAX) return false;
  op.data = x.data_ptr<float>();
  op.member_stride = x.stride(0);
  return true;
}

// The BLAS path for c [M, r, n] = (or +=) a [M, r, k] @ b [M, k, n]; false
// where LibTorch would not call BLAS the same way (then it is left to bmm).
bool blas_member_matmul(at::Tensor& c, const at::Tensor& a, const at::Tensor& b, bool accumulate) {
  const int64_t M = c.size(0), r = c.size(1), n = c.size(2), k = a.size(2);
  // LibTorch's bmm takes its own loop for tiny products and a column-major
  // result for a single column: leave those to it, to keep its numbers.
  if (k * r * n < 400 || n == 1 || r == 1 || k == 0) return false;
  if (std::max({r, n, k}) > INT_MAX / 2) return false;
  // C^T (n x r) = B^T (n x k) A^T (k x r): b is the call's first operand.
  Operand first, second;
  if (!as_operand(b, n, k, first) || !as_operand(a, k, r, second)) return false;
  float* out = c.data_ptr<float>();
  for (int64_t m = 0; m < M; ++m)
    row_major_gemm(second.trans == 'T', first.trans == 'T', static_cast<int>(r), static_cast<int>(n),
                   static_cast<int>(k), second.data + m * second.member_stride, second.ld,
                   first.data + m * first.member_stride, first.ld, accumulate ? 1.0f : 0.0f, out + m * r * n,
                   static_cast<int>(n));
  return true;
}
#endif

struct MemberLinear : torch::autograd::Function<MemberLinear> {
  static at::Tensor forward(torch::autograd::AutogradContext* ctx, const at::Tensor& h, const at::Tensor& w,
                            const at::Tensor& bias) {
    ctx->save_for_backward({h, w});
    return member_affine(h, w, bias);
  }

  // baddbmm's derivatives as LibTorch's autograd writes them.
  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grads) {
    const auto saved = ctx->get_saved_variables();
    const at::Tensor &h = saved[0], &w = saved[1];
    const at::Tensor g = grads[0].contiguous();
    at::Tensor grad_h, grad_w, grad_bias;
    if (ctx->needs_input_grad(0)) grad_h = member_matmul(g, w.transpose(1, 2));
    if (ctx->needs_input_grad(1)) grad_w = member_matmul(h.transpose(1, 2), g);
    if (ctx->needs_input_grad(2)) grad_bias = g.sum(1, /*keepdim=*/true);
    return {grad_h, grad_w, grad_bias};
  }
};

}  // namespace

bool have_blas() {
#ifdef ENDD_HAVE_BLAS
  return true;
#else
  return false;
#endif
}

void row_major_gemm(bool trans_a, bool trans_b, int r, int n, int k, const float* a, int lda, const float* b, int ldb,
                    float beta, float* c, int ldc) {
#ifdef ENDD_HAVE_BLAS
  // Column-major BLAS sees each row-major matrix transposed: C^T (n x r) =
  // op(b)^T (n x k) op(a)^T (k x r), so b is the call's first operand.
  const char first = trans_b ? 'T' : 'N', second = trans_a ? 'T' : 'N';
  const float alpha = 1.0f;
  sgemm_(&first, &second, &n, &r, &k, &alpha, b, &ldb, a, &lda, &beta, c, &ldc);
#else
  (void)trans_a, (void)trans_b, (void)r, (void)n, (void)k, (void)a, (void)lda, (void)b, (void)ldb, (void)beta,
      (void)c, (void)ldc;
  throw Error("row_major_gemm: this build has no BLAS");
#endif
}

void member_matmul_into(at::Tensor& c, const at::Tensor& a, const at::Tensor& b, bool accumulate) {
  ENDD_CHECK(a.dim() == 3 && b.dim() == 3 && c.dim() == 3 && a.size(0) == b.size(0) && c.size(0) == a.size(0) &&
                 a.size(2) == b.size(1) && c.size(1) == a.size(1) && c.size(2) == b.size(2),
             "member_matmul: shapes ", a.sizes(), " @ ", b.sizes(), " -> ", c.sizes(), " do not match");
#ifdef ENDD_HAVE_BLAS
  if (c.device().is_cpu() && a.device().is_cpu() && b.device().is_cpu() && c.scalar_type() == at::kFloat &&
      a.scalar_type() == at::kFloat && b.scalar_type() == at::kFloat && c.is_contiguous() && a.layout() == at::kStrided &&
      b.layout() == at::kStrided && !a.is_conj() && !b.is_conj() && !a.is_neg() && !b.is_neg() &&
      blas_member_matmul(c, a, b, accumulate))
    return;
#endif
  if (accumulate) c.baddbmm_(a, b);
  else at::bmm_out(c, a, b);
}

at::Tensor member_matmul(const at::Tensor& a, const at::Tensor& b) {
  at::Tensor c = at::empty({a.size(0), a.size(1), b.size(2)}, a.options());
  member_matmul_into(c, a, b);
  return c;
}

at::Tensor member_affine(const at::Tensor& h, const at::Tensor& w, const at::Tensor& bias) {
  // A copy even where the expansion is the bias itself (a batch of one):
  // the products accumulate into it.
  const int64_t M = w.size(0), rows = h.size(1), width = w.size(2);
  at::Tensor out;
  if (bias.device().is_cpu() && bias.scalar_type() == at::kFloat && bias.is_contiguous() && bias.dim() == 3 &&
      bias.size(0) == M && bias.size(1) == 1 && bias.size(2) == width) {
    // The rows in a loop: expand + clone cost two dispatches, a student
    // step's layers several microseconds (issue 21).
    out = at::empty({M, rows, width}, bias.options());
    const float* from = bias.data_ptr<float>();
    float* to = out.data_ptr<float>();
    for (int64_t m = 0; m < M; ++m)
      for (int64_t i = 0; i < rows; ++i)
        std::copy(from + m * width, from + (m + 1) * width, to + (m * rows + i) * width);
  } else {
    out = bias.expand({M, rows, width}).clone(at::MemoryFormat::Contiguous);
  }
  member_matmul_into(out, h, w, /*accumulate=*/true);
  return out;
}

at::Tensor member_linear(const at::Tensor& h, const at::Tensor& w, const at::Tensor& bias) {
  const bool fast = h.device().is_cpu() && h.scalar_type() == at::kFloat && w.scalar_type() == at::kFloat &&
                    bias.scalar_type() == at::kFloat && h.dim() == 3 && w.dim() == 3 && bias.dim() == 3;
  if (!fast) return at::baddbmm(bias, h, w);
  return MemberLinear::apply(h, w, bias);
}

}  // namespace endd::models
