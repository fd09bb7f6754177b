#include <gtest/gtest.h>

#include <cmath>

#include "cli_test_util.h"

using namespace endd::testing;

namespace {
// Two inputs, M = 2 members, K = 2 classes, member-major.
const char* kProbsWithHeader = "m1c1,m1c2,m2c1,m2c2\n0.9,0.1,0.1,0.9\n0.5,0.5,0.5,0.5\n";
}  // namespace

TEST(UncertaintyCommandTest, WritesMeasuresPerInput) {
  auto dir = fresh_dir("unc_ok");
  write_text(dir + "/in.csv", kProbsWithHeader);
  auto r = run_endd({"uncertainty", "--members", "2", "--probs", dir + "/in.csv", "--out", dir + "/out.csv"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::string out = read_text(dir + "/out.csv");
  EXPECT_EQ(out.substr(0, out.find('\n')), "prediction,confidence,total,data,knowledge,epkl");
  // Row 1: pbar = (.5,.5): total ln 2, data H(.9,.1), knowledge ln2 - H(.9,.1),
  // EPKL = KL(a||b) = .9 ln 9 + .1 ln(1/9) = .8 ln 9.
  double h = -(0.9 * std::log(0.9) + 0.1 * std::log(0.1));
  double epkl = 0.8 * std::log(9.0);
  std::string row1 = out.substr(out.find('\n') + 1);
  row1 = row1.substr(0, row1.find('\n'));
  double v[6];
  ASSERT_EQ(std::sscanf(row1.c_str(), "%lf,%lf,%lf,%lf,%lf,%lf", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5]), 6);
  EXPECT_NEAR(v[2], std::log(2.0), 1e-8);
  EXPECT_NEAR(v[3], h, 1e-8);
  EXPECT_NEAR(v[4], std::log(2.0) - h, 1e-8);
  EXPECT_NEAR(v[5], epkl, 1e-8);
}

TEST(UncertaintyCommandTest, BadInputFailsCleanlyWithoutOutput) {
  struct Case {
    std::string name, text, members, expect;
  };
  const std::vector<Case> cases{
      {"columns", "0.5,0.5,0.5,0.5\n0.5,0.5,0.5\n", "2", "in.csv:2: expected 4 fields"},
      {"text", "0.5,0.5,0.5,0.5\n0.5,abc,0.5,0.5\n", "2", "in.csv:2: column 2: expected a number, got 'abc'"},
      {"nan", "0.5,0.5,0.5,0.5\n0.5,nan,0.5,0.5\n", "2", "in.csv:2: column 2: value 'nan' is not finite"},
      {"inf", "0.5,0.5,0.5,0.5\n0.5,0.5,inf,0.5\n", "2", "in.csv:2: column 3: value 'inf' is not finite"},
      {"negative", "0.5,0.5,0.5,0.5\n1.5,-0.5,0.5,0.5\n", "2", "in.csv:2: column 2: probability -0.5 is negative"},
      {"sum", "0.5,0.5,0.5,0.5\n0.5,0.5,0.6,0.6\n", "2", "in.csv:2: member 2's probabilities sum to 1.2"},
      {"empty", "", "2", "in.csv: the file is empty"},
      {"divide", "0.5,0.5,0.5,0.5\n", "3", "4 columns do not split into --members 3"},
  };
  for (const auto& c : cases) {
    auto dir = fresh_dir("unc_" + c.name);
    write_text(dir + "/in.csv", c.text);
    auto r = run_endd({"uncertainty", "--members", c.members, "--probs", dir + "/in.csv", "--out", dir + "/out.csv"});
    EXPECT_NE(r.exit_code, 0) << c.name;
    EXPECT_NE(r.err.find(c.expect), std::string::npos) << c.name << ": " << r.err;
    EXPECT_NE(r.err.find("endd: error: "), std::string::npos) << c.name;
    EXPECT_FALSE(exists(dir + "/out.csv")) << c.name << ": partial output left";
  }
}

TEST(UncertaintyCommandTest, MissingFileAndRenormalizeFlag) {
  auto dir = fresh_dir("unc_misc");
  auto r = run_endd({"uncertainty", "--members", "2", "--probs", dir + "/nope.csv", "--out", dir + "/o.csv"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find(dir + "/nope.csv: no such file"), std::string::npos) << r.err;
  write_text(dir + "/in.csv", "1,1,2,2\n");
  r = run_endd({"uncertainty", "--members", "2", "--probs", dir + "/in.csv", "--out", dir + "/o.csv", "--renormalize"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(exists(dir + "/o.csv"));
}

TEST(UncertaintyCommandTest, LogitsAndDirichletInputs) {
  auto dir = fresh_dir("unc_logits");
  write_text(dir + "/z.csv", "0,100,-100,0\n");
  auto r = run_endd({"uncertainty", "--members", "2", "--logits", dir + "/z.csv", "--out", dir + "/o.csv"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(read_text(dir + "/o.csv").find("nan"), std::string::npos);
  write_text(dir + "/d.csv", "0.693147180559945,-0.356674943938732,1.6094379124341,0.262364264467491\n");
  r = run_endd({"uncertainty", "--dirichlet-logits", dir + "/d.csv", "--out", dir + "/d_out.csv"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::string out = read_text(dir + "/d_out.csv");
  EXPECT_NE(out.find("alpha0"), std::string::npos);
  EXPECT_NE(out.find(",0.333333333,"), std::string::npos) << out;  // EPKL (K-1)/alpha0 = 3/9
}
