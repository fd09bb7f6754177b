// Members trained together in one vectorised graph end where members trained
// one by one, with the same seeds and batches, end.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include "endd/core/error.h"
#include "endd/models/mlp_ensemble.h"
#include "endd/train/distiller.h"
#include "endd/train/ensemble_trainer.h"

using namespace endd;

TEST(VectorisedTrainingTest, MatchesMembersTrainedOneByOne) {
  at::manual_seed(0);
  at::Tensor x = at::randn({100, 2});
  at::Tensor y = at::randint(0, 3, {100}, at::kLong);
  auto opts = models::MlpOptions(2, 3).hidden_layers(2).width(16);
  const std::vector<uint64_t> init{11, 22, 33}, order{44, 55, 66};
  train::EnsembleTrainOptions t;
  t.epochs = 3;
  t.batch_size = 32;  // 4 steps an epoch, the last one partial
  t.quiet = true;
  models::MlpEnsemble together(opts, init);
  train::train_ensemble(together, x, y, order, t);
  for (size_t m = 0; m < init.size(); ++m) {
    models::MlpEnsemble alone(opts, {init[m]});
    train::train_ensemble(alone, x, y, {order[m]}, t);
    auto a = together.member_parameters(static_cast<int64_t>(m));
    auto b = alone.member_parameters(0);
    ASSERT_EQ(a.size(), b.size());
    for (size_t p = 0; p < a.size(); ++p) {
      EXPECT_TRUE(at::allclose(a[p], b[p], 1e-5, 1e-6)) << "member " << m << " tensor " << p
                                                        << " max diff " << (a[p] - b[p]).abs().max().item<float>();
    }
  }
  // Training moved the weights (the comparison above is not of initial values).
  models::MlpEnsemble fresh(opts, init);
  EXPECT_FALSE(at::allclose(fresh.member_parameters(0)[0], together.member_parameters(0)[0]));
}

TEST(VectorisedTrainingTest, InitialisationDependsOnlyOnTheMemberSeed) {
  auto opts = models::MlpOptions(4, 5);
  models::MlpEnsemble a(opts, {7, 8}), b(opts, {9, 8});
  EXPECT_TRUE(at::equal(a.member_parameters(1)[0], b.member_parameters(1)[0]));
  EXPECT_FALSE(at::equal(a.member_parameters(0)[0], b.member_parameters(0)[0]));
}

TEST(DistillerTest, RefusesEnD2FromOneMember) {
  models::MlpEnsemble student(models::MlpOptions(2, 3), {1});
  train::DistillOptions o;
  o.quiet = true;
  o.epochs = 1;
  try {
    train::distill(student, at::randn({10, 2}), at::randn({10, 1, 3}), o);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("at least 2 members"), std::string::npos);
  }
}

TEST(DistillerTest, StudentLearnsTheEnsembleMean) {
  // A teacher that is a fixed function of the input; EnD^2 must fit its mean.
  at::manual_seed(3);
  at::Tensor x = at::randn({256, 2});
  at::Tensor base = at::stack({x.select(1, 0) * 3, x.select(1, 1) * 3, at::zeros({256})}, 1);
  at::Tensor teacher = base.unsqueeze(1) + at::randn({256, 8, 3}) * 0.5;  // [N, M, K]
  models::MlpEnsemble student(models::MlpOptions(2, 3).width(32), {5});
  train::DistillOptions o;
  o.quiet = true;
  o.epochs = 60;
  o.batch_size = 64;
  o.learning_rate = 1e-2;
  o.initial_temperature = 2;
  auto curve = train::distill(student, x, teacher, o);
  EXPECT_LT(curve.back().loss, curve.front().loss);
  at::Tensor agree = (student.forward(x).squeeze(0).argmax(-1) == at::softmax(teacher, -1).mean(1).argmax(-1));
  EXPECT_GT(agree.to(at::kFloat).mean().item<float>(), 0.9);
}

#include "endd/models/conv_ensemble.h"

TEST(VectorisedTrainingTest, ConvolutionalMembersMatchOneByOne) {
  // Grouped convolutions (groups = M) and per-channel BatchNorm keep members independent.
  at::manual_seed(1);
  at::Tensor x = at::rand({48, 1, 12, 12});
  at::Tensor y = at::randint(0, 4, {48}, at::kLong);
  for (std::string preset : {"cnn", "resnet", "resnet-nobn", "vgg"}) {
    auto opts = models::ConvOptions::preset(preset.substr(0, preset.find('-')), 1, 12, 12, 4).hidden(16).stages({4, 8});
    if (preset == "resnet-nobn") opts.batch_norm(false);
    if (preset == "vgg") opts.dropout(0);
    const std::vector<uint64_t> init{5, 6}, order{7, 8};
    train::EnsembleTrainOptions t;
    t.epochs = 2;
    t.batch_size = 16;
    t.quiet = true;
    models::ConvEnsemble together(opts, init);
    train::train_ensemble(together, x, y, order, t);
    for (size_t m = 0; m < init.size(); ++m) {
      models::ConvEnsemble alone(opts, {init[m]});
      train::train_ensemble(alone, x, y, {order[m]}, t);
      together.eval();
      alone.eval();
      at::Tensor a = together.forward(x).select(0, static_cast<int64_t>(m));
      at::Tensor b = alone.forward(x).select(0, 0);
      EXPECT_TRUE(at::allclose(a, b, 1e-4, 1e-5)) << preset << " member " << m << " max diff "
                                                   << (a - b).abs().max().item<float>();
      together.train();
    }
  }
}

#include "endd/data/image_transforms.h"
#include "endd/experiments/ensemble_shards.h"

TEST(ShardedTrainingTest, ShardsEndWhereOneGraphEnds) {
  // Members never interact, so training them as 3 shards side by side must
  // give exactly the weights of one graph: results cannot depend on the
  // number of cores.
  at::manual_seed(1);
  at::Tensor x = at::randn({90, 2});
  at::Tensor y = at::randint(0, 3, {90}, at::kLong);
  auto opts = models::MlpOptions(2, 3).hidden_layers(2).width(16);
  const std::vector<uint64_t> init{1, 2, 3, 4, 5}, order{6, 7, 8, 9, 10};
  train::EnsembleTrainOptions t;
  t.epochs = 3;
  t.batch_size = 32;
  t.quiet = true;
  models::MlpEnsemble one_graph(opts, init), sharded(opts, init);
  auto whole = train::train_ensemble(one_graph, x, y, order, t);
  auto make = [&](const std::vector<uint64_t>& s) { return std::make_shared<models::MlpEnsemble>(opts, s); };
  auto curve = experiments::train_in_shards(sharded, make, init, x, y, order, t, 3);
  for (int64_t m = 0; m < 5; ++m) {
    auto a = one_graph.member_parameters(m), b = sharded.member_parameters(m);
    for (size_t p = 0; p < a.size(); ++p) EXPECT_TRUE(at::equal(a[p], b[p])) << "member " << m << " tensor " << p;
  }
  ASSERT_EQ(curve.size(), whole.size());
  for (size_t e = 0; e < curve.size(); ++e) EXPECT_NEAR(curve[e].loss, whole[e].loss, 1e-5 * whole[e].loss);
  models::MlpEnsemble fresh(opts, init);
  EXPECT_FALSE(at::equal(fresh.member_parameters(4)[0], sharded.member_parameters(4)[0]));
}

TEST(ShardedTrainingTest, AugmentedConvolutionalShardsMatchOneGraph) {
  // Augmentation draws per member, so shards see the same crops and flips as
  // one graph; BatchNorm statistics (buffers) travel with their members.
  at::manual_seed(2);
  at::Tensor x = at::rand({40, 1, 12, 12});
  at::Tensor y = at::randint(0, 4, {40}, at::kLong);
  auto opts = models::ConvOptions::preset("resnet", 1, 12, 12, 4).hidden(16).stages({4, 8});
  const std::vector<uint64_t> init{5, 6, 7}, order{8, 9, 10};
  train::EnsembleTrainOptions t;
  t.epochs = 2;
  t.batch_size = 16;
  t.quiet = true;
  t.augment = [](const at::Tensor& b, uint64_t s) { return data::random_crop_flip(b, 2, true, s); };
  models::ConvEnsemble one_graph(opts, init), sharded(opts, init);
  train::train_ensemble(one_graph, x, y, order, t);
  auto make = [&](const std::vector<uint64_t>& s) { return std::make_shared<models::ConvEnsemble>(opts, s); };
  experiments::train_in_shards(sharded, make, init, x, y, order, t, 2);
  one_graph.eval();
  sharded.eval();
  at::Tensor a = one_graph.forward(x), b = sharded.forward(x);
  EXPECT_TRUE(at::allclose(a, b, 1e-5, 1e-6)) << "max diff " << (a - b).abs().max().item<float>();
  models::ConvEnsemble fresh(opts, init);
  fresh.eval();
  EXPECT_FALSE(at::allclose(fresh.forward(x), b, 1e-3, 1e-3));
}
