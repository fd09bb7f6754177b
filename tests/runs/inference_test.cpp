// Inference over a finished model runs in chunks of inputs: the result must
// not depend on the chunk size (beyond float32 rounding: the network's matrix
// products are blocked by batch size), and member probabilities come only on
// request.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include "endd/distill/teacher_cache.h"
#include "endd/models/mlp_ensemble.h"
#include "endd/runs/workflow.h"

using namespace endd;

namespace {
runs::LoadedModel small_model(int64_t members, bool dirichlet, const at::Tensor& x) {
  runs::LoadedModel m;
  m.info.inputs = x.size(1);
  m.info.classes = 3;
  m.info.members = members;
  if (dirichlet) {
    m.info.kind = runs::RunKind::kStudent;
    m.info.method = "end2";
  }
  std::vector<uint64_t> seeds;
  for (int64_t i = 0; i < members; ++i) seeds.push_back(7 + static_cast<uint64_t>(i));
  m.net = std::make_shared<models::MlpEnsemble>(models::MlpOptions(x.size(1), 3).hidden_layers(2).width(8), seeds);
  m.scaler = data::Standardizer::fit(x);
  return m;
}

void expect_same(const uncertainty::Measures& a, const uncertainty::Measures& b) {
  ASSERT_EQ(a.size(), b.size());
  EXPECT_TRUE(at::equal(a.prediction, b.prediction));
  for (auto field : {&uncertainty::Measures::mean_probs, &uncertainty::Measures::confidence,
                     &uncertainty::Measures::total, &uncertainty::Measures::data, &uncertainty::Measures::knowledge,
                     &uncertainty::Measures::epkl})
    EXPECT_TRUE(at::allclose(a.*field, b.*field, 1e-5, 1e-6));
  ASSERT_EQ(a.precision.has_value(), b.precision.has_value());
  ASSERT_EQ(a.diff_entropy.has_value(), b.diff_entropy.has_value());
  if (a.precision) EXPECT_TRUE(at::allclose(*a.precision, *b.precision, 1e-5, 0));
  if (a.diff_entropy) EXPECT_TRUE(at::allclose(*a.diff_entropy, *b.diff_entropy, 1e-5, 1e-5));
}
}  // namespace

TEST(InferenceTest, ChunkedEnsembleEqualsOnePassOverEveryInput) {
  at::manual_seed(0);
  at::Tensor x = at::randn({1001, 2}) * 3 + 1;
  auto model = small_model(4, false, x);
  // Reference: every input at once, straight from the network.
  at::Tensor logits = distill::compute_teacher_logits(*model.net, model.scaler.apply(x)).cpu();
  auto reference = uncertainty::ensemble_measures_from_logits(logits);
  for (int64_t chunk : {1001, 1000, 97, 1}) {
    auto inf = runs::infer(model, x, true, chunk);
    expect_same(inf.measures, reference);
    EXPECT_TRUE(at::allclose(inf.member_probs, at::softmax(logits.to(at::kDouble), -1), 1e-5, 1e-6));
  }
  EXPECT_FALSE(runs::infer(model, x, false, 97).member_probs.defined());
}

TEST(InferenceTest, ChunkedDirichletKeepsPrecisionAndDifferentialEntropy) {
  at::manual_seed(1);
  at::Tensor x = at::randn({300, 5});
  auto model = small_model(1, true, x);
  at::Tensor logits = distill::compute_teacher_logits(*model.net, model.scaler.apply(x)).cpu();
  auto reference = uncertainty::dirichlet_measures(logits.squeeze(1));
  auto inf = runs::infer(model, x, false, 64);
  ASSERT_TRUE(inf.measures.precision.has_value());
  expect_same(inf.measures, reference);
}

TEST(InferenceTest, NoInputsGiveEmptyMeasuresAndBadShapesAreRefused) {
  at::Tensor x = at::randn({10, 2});
  auto model = small_model(3, false, x);
  auto inf = runs::infer(model, at::zeros({0, 2}), true, 4);
  EXPECT_EQ(inf.measures.size(), 0);
  EXPECT_EQ(inf.member_probs.size(0), 0);
  EXPECT_THROW(runs::infer(model, at::zeros({5, 3})), std::exception);
  EXPECT_THROW(runs::infer(model, x, false, 0), std::exception);
}
