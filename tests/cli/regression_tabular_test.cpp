// endd experiment regression-tabular --quick (issue 19): every model's row
// with means and standard errors over the splits, and a bad request leaves
// no output behind.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cmath>

#include "cli_test_util.h"

using namespace endd::testing;

TEST(RegressionTabularTest, QuickRunGivesEveryModelOnEverySplit) {
  const std::string dir = fresh_dir("regression_tabular") + "/out";
  auto r = run_endd({"experiment", "regression-tabular", "--quick", "--datasets", "diabetes,auto-mpg", "--out", dir});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto j = nlohmann::json::parse(read_text(dir + "/results.json"));
  EXPECT_EQ(j["experiment"], "regression-tabular");
  ASSERT_EQ(j["datasets"].size(), 2u);
  for (const auto* set : {"diabetes", "auto-mpg"}) {
    const auto& d = j["datasets"][set];
    ASSERT_EQ(d["splits"].size(), 2u) << set;
    for (const auto* model : {"single", "ensemble", "end", "end2", "end2_aux"}) {
      const auto& s = d["summary"][model];
      // The summary is the mean of the splits' figures.
      const double mean = (d["splits"][0][model]["nll"].get<double>() + d["splits"][1][model]["nll"].get<double>()) / 2;
      EXPECT_NEAR(s["nll"]["mean"].get<double>(), mean, 1e-12) << set << " " << model;
      EXPECT_TRUE(std::isfinite(s["nll"]["standard_error"].get<double>())) << set << " " << model;
      EXPECT_TRUE(std::isfinite(s["pooled_calibration_error"].get<double>())) << set << " " << model;
    }
  }
  // Diabetes' disease progression spans 25 to 346: an RMSE near its spread
  // (77) would mean nothing was learnt; linear models reach about 54.
  EXPECT_LT(j["datasets"]["diabetes"]["summary"]["ensemble"]["rmse"]["mean"].get<double>(), 65.0);
  EXPECT_NE(read_text(dir + "/results.md").find("| end2_aux |"), std::string::npos);
}

TEST(RegressionTabularTest, UnknownDataSetIsRefusedAndLeavesNothing) {
  const std::string dir = fresh_dir("regression_tabular_bad") + "/out";
  auto r = run_endd({"experiment", "regression-tabular", "--quick", "--datasets", "housing", "--out", dir});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("housing"), std::string::npos) << r.err;
  EXPECT_FALSE(exists(dir));
}
