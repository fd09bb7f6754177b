// The regression heads' links (models/regression_heads.h), by hand.
#include <gtest/gtest.h>

#include <ATen/ATen.h>

#include <cmath>

#include "endd/models/regression_heads.h"

using namespace endd::models;

namespace {

double softplus_by_hand(double z) { return std::log1p(std::exp(z)); }

}  // namespace

TEST(RegressionHeadsTest, NormalGammaLinksByHand) {
  const double raw[4] = {0.7, 5.5, -1.25, 2.0};
  at::Tensor z = at::tensor({raw[0], raw[1], raw[2], raw[3]}, at::kDouble).view({1, 4});
  NormalGammaHead e = normal_gamma_head(z, PositiveLink::kExp);
  EXPECT_DOUBLE_EQ(e.m.item<double>(), 0.7);
  EXPECT_NEAR(e.kappa.item<double>(), std::exp(5.5) + 1e-4, 1e-12);
  EXPECT_NEAR(e.alpha.item<double>(), 2 + std::exp(-1.25), 1e-12);
  EXPECT_NEAR(e.beta.item<double>(), std::exp(2.0) + 1e-4, 1e-12);
  NormalGammaHead s = normal_gamma_head(z, PositiveLink::kSoftplus);
  EXPECT_NEAR(s.kappa.item<double>(), softplus_by_hand(5.5) + 1e-4, 1e-12);
  EXPECT_NEAR(s.alpha.item<double>(), 2 + softplus_by_hand(-1.25), 1e-12);
  EXPECT_NEAR(s.beta.item<double>(), softplus_by_hand(2.0) + 1e-4, 1e-12);
}

TEST(RegressionHeadsTest, ExpLinkStaysFiniteAndAboveItsFloorsAtTheExtremes) {
  // Raw outputs far beyond the clamp, in float32 as a network gives them:
  // finite parameters, and the clamp's ends are exp(+-20).
  at::Tensor z = at::tensor({0.f, 1e6f, -1e6f, 300.f, 0.f, -300.f, 1e6f, -1e6f}, at::kFloat).view({2, 4});
  z.requires_grad_(true);
  NormalGammaHead h = normal_gamma_head(z, PositiveLink::kExp);
  for (const at::Tensor& t : {h.kappa, h.alpha, h.beta}) EXPECT_TRUE(at::isfinite(t).all().item<bool>());
  EXPECT_NEAR(h.kappa[0].item<double>() / std::exp(20.0), 1.0, 1e-5);
  EXPECT_GE(h.kappa[1].item<double>(), kNormalGammaFloor);
  EXPECT_GE(h.alpha[0].item<double>(), 1 + kMinAlphaExcess);  // float32: 2 + exp(-20) rounds to 2
  EXPECT_GE(h.beta[0].item<double>(), kNormalGammaFloor);
  (h.kappa.log().sum() + h.alpha.log().sum() + h.beta.log().sum()).backward();
  EXPECT_TRUE(at::isfinite(z.grad()).all().item<bool>());
}

TEST(RegressionHeadsTest, LinkNamesRoundTripAndUnknownOnesAreNot) {
  for (PositiveLink link : {PositiveLink::kExp, PositiveLink::kSoftplus})
    EXPECT_EQ(parse_positive_link(positive_link_name(link)), link);
  EXPECT_FALSE(parse_positive_link("Exp").has_value());
  EXPECT_FALSE(parse_positive_link("").has_value());
}
