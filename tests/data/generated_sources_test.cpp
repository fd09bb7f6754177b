// The spiral experiment's generated sets as data sources: checked against the
// geometry they are defined by, not against the generator's own code.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>

#include "endd/core/error.h"
#include "endd/data/generated_sources.h"
#include "endd/data/source.h"
#include "endd/data/spiral.h"

using namespace endd;

namespace {

std::string source_error(const std::string& spec) {
  try {
    data::load_source(spec);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST(GeneratedSourcesTest, NoiseFreeSpiralPointsLieOnTheirArm) {
  // Arm k: radius r = a^2 at angle a + 2 pi k / 3 (a in [0, 6 pi]), with x
  // mirrored: (x, y) = (-r cos, r sin).
  data::Dataset d = data::load_source("spiral:train,n=40,noise=0,seed=7");
  ASSERT_EQ(d.size(), 120);
  EXPECT_EQ(d.classes, (std::vector<std::string>{"0", "1", "2"}));
  const double R = data::spiral_radius();
  for (int64_t i = 0; i < d.size(); ++i) {
    const double x = d.inputs[i][0].item<double>(), y = d.inputs[i][1].item<double>();
    const int64_t k = d.labels[i].item<int64_t>();
    EXPECT_EQ(k, i / 40);
    const double r = std::hypot(x, y), a = std::sqrt(r);
    ASSERT_LE(r, R * (1 + 1e-6));
    const double expected = a + 2.0 * M_PI * double(k) / 3.0;
    const double diff = std::remainder(std::atan2(y, -x) - expected, 2.0 * M_PI);
    EXPECT_NEAR(diff, 0.0, 1e-3 * (1 + 1 / std::max(r, 1e-3))) << "point " << i;
  }
}

TEST(GeneratedSourcesTest, SeedsSplitsAndScaleAreTheExperiments) {
  const auto a = data::load_source("spiral:train,n=30,noise=0.3,seed=5");
  EXPECT_TRUE(at::equal(a.inputs, data::load_source("spiral:train,seed=5,noise=0.3,n=30").inputs));
  EXPECT_FALSE(at::equal(a.inputs, data::load_source("spiral:test,n=30,noise=0.3,seed=5").inputs));
  EXPECT_FALSE(at::equal(a.inputs, data::load_source("spiral:train,n=30,noise=0.3,seed=6").inputs));
  // scale=r: the spiral's radius R becomes r.
  const auto scaled = data::load_source("spiral:train,n=30,noise=0.3,seed=5,scale=10");
  EXPECT_TRUE(at::allclose(scaled.inputs, a.inputs * (10.0 / data::spiral_radius()), 1e-6, 1e-6));
  // The texts the experiment writes read back to the same sets.
  EXPECT_TRUE(at::equal(data::load_source(data::spiral_source(true, 30, 0.3, 5, 0)).inputs, a.inputs));
  EXPECT_EQ(data::spiral_source(false, 10, 0.36, 18446744073709551615ull, 0),
            "spiral:test,n=10,noise=0.36,seed=18446744073709551615");
  EXPECT_EQ(data::disc_source(5, 2, 1, 10), "disc:n=5,radius=2,seed=1,scale=10");
  const double third = 1.0 / 3.0;  // every digit it needs, and back exactly
  EXPECT_EQ(data::spiral_source(true, 30, third, 5, 0), "spiral:train,n=30,noise=0.3333333333333333,seed=5");
  EXPECT_EQ(std::strtod("0.3333333333333333", nullptr), third);
}

TEST(GeneratedSourcesTest, DiscAndAnnulusStayInTheirRings) {
  const double R = data::spiral_radius();
  data::SourceRequest unlabelled;
  unlabelled.need_labels = false;
  at::Tensor disc = data::load_source("disc:n=500,radius=1.5,seed=2", unlabelled).inputs;
  ASSERT_EQ(disc.size(0), 500);
  at::Tensor r = disc.norm(2, 1);
  EXPECT_LE(r.max().item<double>(), 1.5 * R * (1 + 1e-6));
  // Uniform by area: about a quarter of the points inside half the radius.
  const double inner_share = r.lt(0.75 * R).to(at::kDouble).mean().item<double>();
  EXPECT_NEAR(inner_share, 0.25, 0.06);
  at::Tensor ring = data::load_source("annulus:n=400,inner=1.25,outer=2,seed=2", unlabelled).inputs.norm(2, 1);
  EXPECT_GE(ring.min().item<double>(), 1.25 * R * (1 - 1e-6));
  EXPECT_LE(ring.max().item<double>(), 2.0 * R * (1 + 1e-6));
  // Without labels: fine where none are needed, an error where they are.
  EXPECT_EQ(data::load_source("disc", unlabelled).size(), 3000);
  EXPECT_NE(source_error("disc:n=5").find("has no labels"), std::string::npos);
}

TEST(GeneratedSourcesTest, SetNamesAndErrors) {
  EXPECT_EQ(data::split_source_name("annulus:n=10,seed=1:far"),
            (std::pair<std::string, std::string>{"annulus:n=10,seed=1", "far"}));
  EXPECT_EQ(data::split_source_name("disc:wide"), (std::pair<std::string, std::string>{"disc", "wide"}));
  EXPECT_EQ(data::split_source_name("spiral:test,n=5").second, "spiral-test");
  EXPECT_NE(source_error("spiral:train,nosie=1").find("unknown key 'nosie'; did you mean 'noise'?"), std::string::npos);
  EXPECT_NE(source_error("spiral").find("expected spiral:train or spiral:test"), std::string::npos);
  EXPECT_NE(source_error("spiral:train,n=0").find("n: expected >= 1"), std::string::npos);
  EXPECT_NE(source_error("spiral:train,n=2.5").find("n: expected a whole number"), std::string::npos);
  EXPECT_NE(source_error("spiral:train,noise=abc").find("noise: expected a number, got 'abc'"), std::string::npos);
  EXPECT_NE(source_error("spiral:train,seed=-1").find("seed: expected a whole number >= 0"), std::string::npos);
  EXPECT_NE(source_error("annulus:inner=2,outer=1").find("outer: expected > inner"), std::string::npos);
  EXPECT_NE(source_error("disc:n=5:x:y").find("expected disc[:key=value,...]"), std::string::npos);
}
