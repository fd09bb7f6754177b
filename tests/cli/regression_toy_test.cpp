// endd experiment regression-toy --quick (issue 19): every model's row and
// figure, and the qualitative results the experiment exists to show.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cmath>

#include "cli_test_util.h"

using namespace endd::testing;

TEST(RegressionToyTest, QuickRunShowsWhatAuxDoesForKnowledgeFarAway) {
  const std::string dir = fresh_dir("regression_toy");
  auto r = run_endd({"experiment", "regression-toy", "--quick", "--out", dir});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto j = nlohmann::json::parse(read_text(dir + "/results.json"));
  EXPECT_EQ(j["experiment"], "regression-toy");
  for (const auto* model : {"single", "ensemble", "end", "end2", "end2_aux"}) {
    const auto& m = j["models"][model];
    EXPECT_TRUE(std::isfinite(m["rmse"].get<double>()) && std::isfinite(m["nll"].get<double>())) << model;
    EXPECT_LT(m["rmse"].get<double>(), 1.0) << model;  // the noise sd is 0.35 to 0.7
    EXPECT_GT(m["coverage_90"].get<double>(), 75.0) << model;
    EXPECT_TRUE(exists(dir + "/figures/" + std::string(model) + "/bands.csv")) << model;
  }
  // The ensemble beats its typical member; EnD^2 keeps the ensemble's accuracy.
  EXPECT_LT(j["models"]["ensemble"]["nll"].get<double>(), j["models"]["single"]["nll"].get<double>());
  EXPECT_LT(j["models"]["end2"]["rmse"].get<double>(), 1.05 * j["models"]["ensemble"]["rmse"].get<double>());
  // Far from the data EnD^2 without AUX has lost the ensemble's knowledge
  // uncertainty; with AUX it follows it.
  const auto& plain = j["grid"]["end2"];
  const auto& aux = j["grid"]["end2_aux"];
  EXPECT_LT(plain["far_knowledge_ratio"].get<double>(), 0.3);
  EXPECT_GT(aux["far_knowledge_ratio"].get<double>(), 0.5);
  EXPECT_GT(aux["knowledge_variance_spearman"].get<double>(), 0.8);
  EXPECT_GT(aux["knowledge_variance_spearman"].get<double>(), plain["knowledge_variance_spearman"].get<double>());
}
