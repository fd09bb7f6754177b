// The members' matrix products against LibTorch's bmm/baddbmm: values and
// gradients bit for bit (the same BLAS calls), over the operand layouts the
// models pass (row-major, transposed views, an input shared by all members)
// and the shapes LibTorch keeps to itself (tiny products, one column).
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <string>

#include "endd/models/member_matmul.h"

namespace {

using endd::models::member_linear;
using endd::models::member_matmul;
using endd::models::member_matmul_into;

::testing::AssertionResult bitwise_equal(const at::Tensor& got, const at::Tensor& want, const std::string& what) {
  if (got.sizes() != want.sizes())
    return ::testing::AssertionFailure() << what << ": shape " << got.sizes() << ", expected " << want.sizes();
  if (!at::equal(got, want))
    return ::testing::AssertionFailure() << what << ": max |diff| " << (got - want).abs().max().item<double>();
  return ::testing::AssertionSuccess();
}

// member_linear's output and gradients against at::baddbmm's, for an input
// [M, B, I] (or a shared [B, I] expanded over the members).
::testing::AssertionResult linear_matches_baddbmm(int64_t M, int64_t B, int64_t I, int64_t O, bool shared_input,
                                                  at::ScalarType dtype = at::kFloat) {
  const auto opts = at::TensorOptions().dtype(dtype);
  at::Tensor x = shared_input ? at::randn({B, I}, opts).unsqueeze(0).expand({M, B, I}) : at::randn({M, B, I}, opts);
  at::Tensor w = at::randn({M, I, O}, opts), b = at::randn({M, 1, O}, opts), g = at::randn({M, B, O}, opts);
  auto run = [&](bool ours) {
    at::Tensor xl = x.detach().clone().requires_grad_(!shared_input);
    if (shared_input) xl = x;  // an expanded input needs no gradient, as in the models
    at::Tensor wl = w.clone().requires_grad_(true), bl = b.clone().requires_grad_(true);
    at::Tensor y = ours ? member_linear(xl, wl, bl) : at::baddbmm(bl, xl, wl);
    y.backward(g);
    return std::vector<at::Tensor>{y.detach(), shared_input ? at::zeros({1}) : xl.grad(), wl.grad(), bl.grad()};
  };
  const auto ours = run(true), theirs = run(false);
  const char* names[] = {"output", "input gradient", "weight gradient", "bias gradient"};
  const std::string where = "M " + std::to_string(M) + " B " + std::to_string(B) + " " + std::to_string(I) + "->" +
                            std::to_string(O) + (shared_input ? " shared input" : "");
  for (size_t i = 0; i < ours.size(); ++i)
    if (auto r = bitwise_equal(ours[i], theirs[i], where + " " + names[i]); !r) return r;
  return ::testing::AssertionSuccess();
}

}  // namespace

TEST(MemberMatmulTest, LinearLayersMatchBaddbmmBitForBit) {
  at::manual_seed(3);
  // The spiral's members and students, a Fashion CNN's dense layers, batch 1.
  EXPECT_TRUE(linear_matches_baddbmm(50, 128, 64, 64, false));
  EXPECT_TRUE(linear_matches_baddbmm(50, 128, 2, 64, true));
  EXPECT_TRUE(linear_matches_baddbmm(50, 128, 64, 3, false));
  EXPECT_TRUE(linear_matches_baddbmm(1, 100, 64, 64, false));
  EXPECT_TRUE(linear_matches_baddbmm(5, 128, 1568, 128, false));
  EXPECT_TRUE(linear_matches_baddbmm(3, 1, 64, 3, false));    // tiny: LibTorch's own loop
  EXPECT_TRUE(linear_matches_baddbmm(3, 37, 5, 1, false));    // one output column
  EXPECT_TRUE(linear_matches_baddbmm(4, 33, 7, 9, false, at::kDouble));  // not float32: baddbmm itself
}

TEST(MemberMatmulTest, TransposedAndSharedOperandsMatchBmm) {
  at::manual_seed(4);
  const int64_t M = 6, r = 40, k = 24, n = 16;
  at::Tensor a = at::randn({M, r, k}), b = at::randn({M, k, n});
  at::Tensor a_t = at::randn({M, k, r}).transpose(1, 2), b_t = at::randn({M, n, k}).transpose(1, 2);
  at::Tensor a_shared = at::randn({r, k}).unsqueeze(0).expand({M, r, k});
  at::Tensor a_wide = at::randn({M, r, k + 5}).slice(2, 0, k);  // row stride past the row's end
  struct Case {
    const char* name;
    at::Tensor a, b;
  } cases[] = {{"a @ b", a, b},           {"a^T view @ b", a_t, b},         {"a @ b^T view", a, b_t},
               {"a^T @ b^T", a_t, b_t},   {"shared a @ b", a_shared, b},    {"strided rows", a_wide, b}};
  for (const auto& c : cases) {
    EXPECT_TRUE(bitwise_equal(member_matmul(c.a, c.b), at::bmm(c.a, c.b), c.name));
    at::Tensor acc = at::randn({M, r, n});
    at::Tensor want = acc.clone().baddbmm_(c.a, c.b);
    member_matmul_into(acc, c.a, c.b, /*accumulate=*/true);
    EXPECT_TRUE(bitwise_equal(acc, want, std::string(c.name) + ", accumulated"));
  }
}

TEST(MemberMatmulTest, EachMemberIsItsOwnProduct) {
  // Independent of bmm: member m's block is that member's matrix product.
  at::manual_seed(5);
  at::Tensor a = at::randn({3, 30, 20}, at::kDouble).to(at::kFloat), b = at::randn({3, 20, 10}).to(at::kFloat);
  at::Tensor c = member_matmul(a, b);
  for (int64_t m = 0; m < 3; ++m) {
    at::Tensor want = at::matmul(a[m].to(at::kDouble), b[m].to(at::kDouble));
    EXPECT_LT((c[m].to(at::kDouble) - want).abs().max().item<double>(), 1e-4) << "member " << m;
  }
}

TEST(MemberMatmulTest, RefusesMismatchedShapes) {
  at::Tensor c = at::empty({2, 3, 4});
  EXPECT_THROW(member_matmul_into(c, at::randn({2, 3, 5}), at::randn({2, 6, 4})), std::exception);
  EXPECT_THROW(member_matmul_into(c, at::randn({3, 3, 5}), at::randn({3, 5, 4})), std::exception);
}

TEST(MemberMatmulTest, ABatchOfOneLeavesTheBiasAlone) {
  // The bias expanded to a batch of one is the bias itself; the products
  // must go into a copy of it.
  at::manual_seed(6);
  at::Tensor w = at::randn({3, 16, 8}), b = at::randn({3, 1, 8});
  const at::Tensor before = b.clone();
  at::Tensor y = member_linear(at::randn({3, 1, 16}), w, b);
  EXPECT_TRUE(at::equal(b, before));
  EXPECT_EQ(y.sizes(), (std::vector<int64_t>{3, 1, 8}));
}
