// Regression ensembles from anywhere (issue 19): `endd uncertainty
// --gaussian` and `endd score --task regression` on members' means and
// variances, against hand values and direct computations.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <ATen/ATen.h>

#include <cmath>
#include <random>
#include <sstream>

#include "cli_test_util.h"
#include "endd/data/tensor_file.h"

using namespace endd::testing;

namespace {

std::vector<std::vector<double>> read_csv_rows(const std::string& path) {
  std::istringstream in(read_text(path));
  std::string line;
  std::getline(in, line);  // header
  std::vector<std::vector<double>> rows;
  while (std::getline(in, line)) {
    std::vector<double> row;
    std::istringstream cells(line);
    std::string cell;
    while (std::getline(cells, cell, ',')) row.push_back(std::stod(cell));
    rows.push_back(row);
  }
  return rows;
}

}  // namespace

TEST(RegressionCommandTest, UncertaintyOfGaussianMembersFromCsvAndTensorFiles) {
  const std::string dir = fresh_dir("regression_uncertainty");
  write_text(dir + "/g.csv", "m1_mean,m1_var,m2_mean,m2_var\r\n0,1,2,1\r\n1,0.5,1,0.5\r\n");
  auto r = run_endd({"uncertainty", "--gaussian", dir + "/g.csv", "--members", "2", "--out", dir + "/u.csv"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string text = read_text(dir + "/u.csv");
  EXPECT_EQ(text.substr(0, text.find('\n')),
            "prediction,total_variance,data_variance,knowledge_variance,total,data,knowledge");
  auto rows = read_csv_rows(dir + "/u.csv");
  ASSERT_EQ(rows.size(), 2u);
  // Members N(0, 1) and N(2, 1): mean 1, data variance 1, knowledge 1 (divided by M).
  EXPECT_DOUBLE_EQ(rows[0][0], 1.0);
  EXPECT_DOUBLE_EQ(rows[0][1], 2.0);
  EXPECT_DOUBLE_EQ(rows[0][2], 1.0);
  EXPECT_DOUBLE_EQ(rows[0][3], 1.0);
  EXPECT_NEAR(rows[0][5], 0.5 * std::log(2 * M_PI * M_E), 1e-8);
  EXPECT_GT(rows[0][6], 0.0);
  EXPECT_LT(rows[0][6], std::log(2.0));  // overlapping members: below the ln M of separate ones
  EXPECT_NEAR(rows[1][6], 0.0, 1e-8);   // identical members
  // The same numbers from a torch.save'd [N, M, 2] tensor.
  endd::data::save_tensor_file(dir + "/g.pt", at::tensor({0.0, 1.0, 2.0, 1.0, 1.0, 0.5, 1.0, 0.5}, at::kDouble).view({2, 2, 2}));
  ASSERT_EQ(run_endd({"uncertainty", "--gaussian", dir + "/g.pt", "--out", dir + "/u2.csv"}).exit_code, 0);
  EXPECT_EQ(read_text(dir + "/u2.csv"), read_text(dir + "/u.csv"));
}

TEST(RegressionCommandTest, ScoreAgainstDirectComputation) {
  const std::string dir = fresh_dir("regression_score");
  std::mt19937_64 rng(1);
  std::normal_distribution<double> z(0, 1);
  std::ostringstream members, targets, far;
  members.precision(17);
  targets.precision(17);
  const int n = 2000;
  std::vector<double> mu0(n), mu1(n), y(n);
  for (int i = 0; i < n; ++i) {
    const double x = z(rng);
    mu0[i] = x + 0.05 * z(rng);
    mu1[i] = x + 0.05 * z(rng);
    y[i] = x + z(rng);  // noise sd 1: members with variance 1 are calibrated
    members << mu0[i] << ",1," << mu1[i] << ",1\n";
    targets << y[i] << "\n";
    far << -5 + 0.3 * z(rng) << ",1," << 5 + 0.3 * z(rng) << ",1\n";  // members disagree far away
  }
  write_text(dir + "/members.csv", members.str());
  write_text(dir + "/targets.csv", "y\n" + targets.str());
  write_text(dir + "/far.csv", far.str());
  auto r = run_endd({"score", "--task", "regression", "--members", "2", "--gaussian", dir + "/members.csv", "--targets",
                     dir + "/targets.csv", "--ood-gaussian", dir + "/far.csv", "--out", dir + "/results.json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto j = nlohmann::json::parse(read_text(dir + "/results.json"));
  const auto& m = j["models"]["ensemble"];
  double sq = 0, nll = 0;
  for (int i = 0; i < n; ++i) {
    const double mean = 0.5 * (mu0[i] + mu1[i]);
    sq += (mean - y[i]) * (mean - y[i]);
    const double p = 0.5 * (std::exp(-0.5 * std::pow(y[i] - mu0[i], 2)) + std::exp(-0.5 * std::pow(y[i] - mu1[i], 2))) /
                     std::sqrt(2 * M_PI);
    nll -= std::log(p);
  }
  EXPECT_NEAR(m["rmse"].get<double>(), std::sqrt(sq / n), 1e-9);
  EXPECT_NEAR(m["nll"].get<double>(), nll / n, 1e-9);
  EXPECT_NEAR(m["coverage_90"].get<double>(), 90.0, 2.5);
  EXPECT_LT(m["calibration_error"].get<double>(), 3.0);
  EXPECT_EQ(m["count"], n);
  EXPECT_GT(j["ood"]["far"]["ensemble"]["knowledge"]["auroc"].get<double>(), 99.0);
  // Targets from a torch.save'd (N,) tensor give the same scores.
  endd::data::save_tensor_file(dir + "/targets.pt", at::tensor(y, at::kDouble));
  r = run_endd({"score", "--task", "regression", "--members", "2", "--gaussian", dir + "/members.csv", "--targets",
                dir + "/targets.pt", "--out", dir + "/results_pt.json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(nlohmann::json::parse(read_text(dir + "/results_pt.json"))["models"], j["models"]);
  EXPECT_TRUE(j["rejection"]["ensemble"]["total_variance"]["prr"].is_number());
}

TEST(RegressionCommandTest, BadInputFailsCleanly) {
  const std::string dir = fresh_dir("regression_bad");
  write_text(dir + "/ok.csv", "0,1,1,1\n0,2,1,2\n");
  write_text(dir + "/negative.csv", "0,1,1,1\n0,-2,1,2\n");
  write_text(dir + "/nan.csv", "0,1,1,1\nnan,2,1,2\n");
  write_text(dir + "/three.csv", "0,1,1,1,1,1\n0,2,1,2,1,1\n");
  write_text(dir + "/short_targets.csv", "1\n");
  write_text(dir + "/text_targets.csv", "1\nabc\n");
  struct Case {
    std::vector<std::string> args;
    std::string expect;
  };
  const std::vector<Case> cases{
      {{"uncertainty", "--gaussian", dir + "/negative.csv", "--members", "2"}, "negative.csv:2: a member's variance is -2"},
      {{"uncertainty", "--gaussian", dir + "/nan.csv", "--members", "2"}, "nan.csv:2"},
      {{"uncertainty", "--gaussian", dir + "/three.csv", "--members", "2"}, "each member needs a mean and a variance"},
      {{"score", "--task", "regression", "--gaussian", dir + "/ok.csv", "--members", "2", "--targets",
        dir + "/short_targets.csv"},
       "1 targets but"},
      {{"score", "--task", "regression", "--gaussian", dir + "/ok.csv", "--members", "2", "--targets",
        dir + "/text_targets.csv"},
       "text_targets.csv:2"},
      {{"score", "--task", "regression", "--gaussian", dir + "/ok.csv", "--members", "2"}, "--targets FILE"},
  };
  for (const auto& c : cases) {
    std::vector<std::string> args = c.args;
    args.insert(args.end(), {"--out", dir + "/out"});
    EXPECT_TRUE(refused(args, c.expect, dir + "/out"));
  }
}
