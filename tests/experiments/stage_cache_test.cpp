#include <gtest/gtest.h>

#include <ATen/ATen.h>

#include <filesystem>
#include <fstream>
#include <functional>

#include "endd/experiments/fashion_mnist_options.h"
#include "endd/experiments/stage_cache.h"
#include "endd/models/conv_ensemble.h"

using namespace endd;

namespace {

std::string fresh_cache_dir(const std::string& name) {
  auto dir = std::filesystem::temp_directory_path() / ("endd_stage_cache_" + name);
  std::filesystem::remove_all(dir);
  return dir.string();
}

// A BatchNorm preset, so the cache must carry buffers as well as parameters.
models::ConvEnsemble small_net(std::vector<uint64_t> seeds) {
  return models::ConvEnsemble(models::ConvOptions::preset("resnet", 1, 8, 8, 3).hidden(8).stages({4}), seeds);
}

at::Tensor outputs_of(models::ConvEnsemble& net) {
  net.eval();
  at::manual_seed(0);
  return net.forward(at::rand({5, 1, 8, 8}));
}

}  // namespace

TEST(StageCacheTest, RestoresParametersBuffersAndSecondsOnlyForTheSameSettings) {
  const std::string dir = fresh_cache_dir("roundtrip");
  experiments::StageCache cache(dir);
  auto trained = small_net({1, 2});
  trained.train();
  trained.forward(at::rand({6, 1, 8, 8}));  // moves the BatchNorm running statistics off their initial values
  cache.save("ensemble", "settings A", trained, 12.5);
  ASSERT_TRUE(std::filesystem::exists(dir + "/stages/ensemble.pt"));

  auto other = small_net({3, 4});
  const at::Tensor before = outputs_of(other);
  double seconds = -1;
  EXPECT_FALSE(cache.restore("ensemble", "settings B", other, seconds));
  EXPECT_FALSE(cache.restore("student", "settings A", other, seconds));
  EXPECT_TRUE(at::equal(outputs_of(other), before)) << "a refused restore must leave the network as it was";
  EXPECT_EQ(seconds, -1);

  ASSERT_TRUE(cache.restore("ensemble", "settings A", other, seconds));
  EXPECT_EQ(seconds, 12.5);
  EXPECT_TRUE(at::equal(outputs_of(other), outputs_of(trained)));
  EXPECT_FALSE(at::equal(outputs_of(other), before));
}

TEST(StageCacheTest, OtherShapesDamagedFilesAndADisabledCacheAreNotRestored) {
  const std::string dir = fresh_cache_dir("refusals");
  experiments::StageCache cache(dir);
  auto two = small_net({1, 2});
  cache.save("ensemble", "s", two, 1.0);
  auto three = small_net({1, 2, 3});  // more members: other shapes
  double seconds = 0;
  EXPECT_FALSE(cache.restore("ensemble", "s", three, seconds));

  std::ofstream(dir + "/stages/ensemble.pt", std::ios::binary | std::ios::trunc) << "not an archive";
  EXPECT_FALSE(cache.restore("ensemble", "s", two, seconds));

  experiments::StageCache disabled("");
  disabled.save("ensemble", "s", two, 1.0);  // writes nothing
  EXPECT_FALSE(disabled.restore("ensemble", "s", two, seconds));
}

// Every setting a stage depends on is in the settings its fingerprint is
// built from (issue 17: weight decay, the schedules and float64_loss were
// not, so changing them reused a stale stage).
TEST(StageFingerprintTest, FashionMnistSettingsThatChangeAStageChangeItsFingerprint) {
  const auto base = endd::experiments::fashion_mnist_config(false);
  const auto json = base.to_json();
  std::vector<std::function<void(endd::experiments::FashionMnistConfig&)>> changes{
      [](auto& c) { c.ensemble.weight_decay = 1e-4; }, [](auto& c) { c.ensemble.cosine_schedule = false; },
      [](auto& c) { c.student.weight_decay = 1e-4; },  [](auto& c) { c.student.cosine_schedule = false; },
      [](auto& c) { c.student.float64_loss = false; }, [](auto& c) { c.student.clip_norm = 3; },
      [](auto& c) { c.ensemble.learning_rate = 1e-3; }, [](auto& c) { c.student.mean_weight = 0.5; }};
  for (size_t i = 0; i < changes.size(); ++i) {
    auto changed = base;
    changes[i](changed);
    EXPECT_NE(changed.to_json().dump(), json.dump()) << "change " << i;
  }
  // At the shipped values the settings are those stages were saved with.
  EXPECT_FALSE(json["ensemble"].contains("cosine_schedule"));
  EXPECT_FALSE(json["distill"].contains("float64_loss"));
}
