#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cmath>

#include "cli_test_util.h"

using namespace endd::testing;

TEST(SpiralCommandTest, QuickRunWritesEveryRequiredKeyWithSaneValues) {
  auto dir = fresh_dir("spiral_quick");
  auto r = run_endd({"experiment", "spiral", "--quick", "--out", dir});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto j = nlohmann::json::parse(read_text(dir + "/results.json"));
  for (const auto* key : {"endd_version", "experiment", "seed", "config", "models", "misclassification", "ood",
                          "fidelity", "paper"})
    EXPECT_TRUE(j.contains(key)) << key;
  for (const auto* model : {"single", "ensemble", "end", "end2", "end2_aux"}) {
    const auto& m = j["models"][model];
    for (const auto* key : {"error", "nll", "ece", "brier", "members", "parameters", "train_seconds"})
      ASSERT_TRUE(m[key].is_number()) << model << "." << key;
    EXPECT_GE(m["error"].get<double>(), 0.0);
    EXPECT_LE(m["error"].get<double>(), 100.0);
    EXPECT_TRUE(std::isfinite(m["nll"].get<double>()));
    const auto& far = j["ood"]["far"][model]["knowledge"];
    for (const auto* key : {"auroc", "aupr_in", "aupr_out", "fpr95"}) {
      ASSERT_TRUE(far[key].is_number()) << model << " far " << key;
      EXPECT_GE(far[key].get<double>(), 0.0);
      EXPECT_LE(far[key].get<double>(), 100.0);
    }
  }
  EXPECT_LT(j["models"]["ensemble"]["error"].get<double>(), 50.0);
  EXPECT_GT(j["misclassification"]["ensemble"]["total"]["auroc"].get<double>(), 50.0);
  EXPECT_TRUE(j["models"]["end2"]["error"].is_number());
  for (const auto* student : {"end2", "end2_aux"}) {
    for (const auto* key : {"knowledge_spearman", "knowledge_pearson", "knowledge_mean_ratio", "kl_to_ensemble"})
      EXPECT_TRUE(j["fidelity"][student]["test"][key].is_number()) << student << " " << key;
  }
  EXPECT_DOUBLE_EQ(j["paper"]["error"]["ensemble"].get<double>(), 12.37);
  for (const auto* file : {"results.md", "uncertainty_maps.csv", "knowledge_histograms.csv", "data_points.csv",
                           "distill_curves.csv", "ensemble_curve.csv"})
    EXPECT_TRUE(exists(dir + "/" + file)) << file;
}

TEST(SpiralCommandTest, InvalidFlagsFailBeforeAnyWork) {
  auto dir = fresh_dir("spiral_bad");
  struct Case {
    std::vector<std::string> args;
    std::string expect;
  };
  const std::vector<Case> cases{
      {{"--members", "0"}, "--members: got '0', expected an integer >= 1"},
      {{"--temperature", "0.5"}, "--temperature: got '0.5', expected a number >= 1"},
      {{"--noise", "-1"}, "--noise: got '-1', expected a number >= 0"},
      {{"--hold", "0.9", "--decay", "0.9"}, "hold/decay fractions: expected >= 0 each and a sum <= 1"},
  };
  for (const auto& c : cases) {
    std::vector<std::string> args{"experiment", "spiral", "--quick", "--out", dir + "/o"};
    args.insert(args.end(), c.args.begin(), c.args.end());
    auto r = run_endd(args);
    EXPECT_NE(r.exit_code, 0);
    if (c.args[0] != "--hold") EXPECT_EQ(r.exit_code, 2) << r.err;  // a flag out of its range is a usage error
    EXPECT_NE(r.err.find(c.expect), std::string::npos) << r.err;
    EXPECT_FALSE(exists(dir + "/o")) << "work started before the check";
  }
  write_text(dir + "/file", "x");
  auto r = run_endd({"experiment", "spiral", "--quick", "--out", dir + "/file/sub"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find(dir + "/file/sub: cannot create output directory"), std::string::npos) << r.err;
}
