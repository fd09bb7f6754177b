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

// Issue 17 for the regression experiments: each is a file. Print it, edit
// values, run the file with --quick: the edited values stay, the rest is the
// quick overlay's, and the resolved file is saved beside the results. A bad
// value in the file names its line.
TEST(RegressionTabularTest, PrintedConfigEditedAndRunAsAFile) {
  const std::string dir = fresh_dir("regression_config_file");
  auto printed = run_endd({"experiment", "regression-tabular", "--print-config", "--set", "data.splits=1"});
  ASSERT_EQ(printed.exit_code, 0) << printed.err;
  std::string text = printed.out;
  for (const auto& [from, to] : std::vector<std::pair<std::string, std::string>>{
           {"datasets = 'diabetes,boston,auto-mpg'", "datasets = 'diabetes'"}, {"width = 50 ", "width = 8 "}}) {
    const auto at = text.find(from);
    ASSERT_NE(at, std::string::npos) << from << "\n" << text;
    text.replace(at, from.size(), to);
  }
  write_text(dir + "/my.toml", text);
  auto r = run_endd({"experiment", dir + "/my.toml", "--quick", "--out", dir + "/out"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto j = nlohmann::json::parse(read_text(dir + "/out/results.json"));
  EXPECT_EQ(j["config"]["datasets"], nlohmann::json::array({"diabetes"}));
  EXPECT_EQ(j["config"]["model"]["width"].get<int>(), 8);
  EXPECT_EQ(j["config"]["splits"].get<int>(), 1);           // printed with --set, kept
  EXPECT_EQ(j["config"]["members"].get<int>(), 5);          // from the quick overlay
  EXPECT_EQ(j["datasets"]["diabetes"]["splits"].size(), 1u);
  EXPECT_NE(read_text(dir + "/out/config.toml").find("width = 8 "), std::string::npos);

  write_text(dir + "/bad.toml", "experiment = \"regression-toy\"\n[ensemble]\nval_fraction = 0.7\n");
  r = run_endd({"experiment", dir + "/bad.toml", "--out", dir + "/bad_out"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find(dir + "/bad.toml:3: ensemble.val_fraction: expected"), std::string::npos) << r.err;
  r = run_endd({"experiment", "regression-toy", "--members", "1", "--out", dir + "/bad_out"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--members: ensemble.members: expected >= 2, got 1"), std::string::npos) << r.err;
  EXPECT_FALSE(exists(dir + "/bad_out"));
}
