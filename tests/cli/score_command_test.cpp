#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "cli_test_util.h"

using namespace endd::testing;

namespace {
// 4 inputs, M = 2, K = 2. Inputs 0-1 confident and right, 2 wrong, 3 unsure.
const char* kProbsNoHeader = "0.9,0.1,0.8,0.2\n0.1,0.9,0.2,0.8\n0.9,0.1,0.7,0.3\n0.5,0.5,0.6,0.4\n";
const char* kLabels = "0\n1\n1\n0\n";
const char* kOod = "0.9,0.1,0.1,0.9\n0.2,0.8,0.9,0.1\n";
}  // namespace

TEST(ScoreCommandTest, WritesSchemaSections) {
  auto dir = fresh_dir("score_ok");
  write_text(dir + "/p.csv", kProbsNoHeader);
  write_text(dir + "/y.csv", kLabels);
  write_text(dir + "/ood.csv", kOod);
  auto r = run_endd({"score", "--members", "2", "--probs", dir + "/p.csv", "--labels", dir + "/y.csv",
                     "--ood-probs", dir + "/ood.csv", "--ood-name", "flip", "--out", dir + "/r.json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto j = nlohmann::json::parse(read_text(dir + "/r.json"));
  EXPECT_EQ(j["models"]["ensemble"]["members"], 2);
  EXPECT_DOUBLE_EQ(j["models"]["ensemble"]["error"].get<double>(), 25.0);
  for (const auto* key : {"nll", "ece", "brier"}) EXPECT_TRUE(j["models"]["ensemble"][key].is_number()) << key;
  EXPECT_TRUE(j["misclassification"]["ensemble"]["total"]["auroc"].is_number());
  EXPECT_TRUE(j["misclassification"]["ensemble"]["knowledge"]["prr"].is_number());
  // The OOD inputs are where members disagree: knowledge AUROC is 100%.
  EXPECT_DOUBLE_EQ(j["ood"]["flip"]["ensemble"]["knowledge"]["auroc"].get<double>(), 100.0);
  for (const auto* key : {"aupr_in", "aupr_out", "fpr95"})
    EXPECT_TRUE(j["ood"]["flip"]["ensemble"]["knowledge"][key].is_number()) << key;
}

TEST(ScoreCommandTest, SingleModelIsNamedSingle) {
  auto dir = fresh_dir("score_single");
  write_text(dir + "/p.csv", "0.9,0.1\n0.3,0.7\n");
  write_text(dir + "/y.csv", "0\n0\n");
  auto r = run_endd({"score", "--members", "1", "--probs", dir + "/p.csv", "--labels", dir + "/y.csv", "--out",
                     dir + "/r.json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto j = nlohmann::json::parse(read_text(dir + "/r.json"));
  EXPECT_DOUBLE_EQ(j["models"]["single"]["error"].get<double>(), 50.0);
}

TEST(ScoreCommandTest, BadLabelsFailCleanly) {
  struct Case {
    std::string name, labels, expect;
  };
  const std::vector<Case> cases{
      {"range", "0\n1\n2\n0\n", "y.csv:3: label 2 is out of range, expected 0 .. 1"},
      {"negative", "0\n-1\n1\n0\n", "y.csv:2: label -1 is out of range"},
      {"fraction", "0\n1\n0.5\n0\n", "y.csv:3: label 0.5 is not an integer"},
      {"count", "0\n1\n1\n", "y.csv: 3 labels but"},
      {"empty", "", "y.csv: the file is empty"},
  };
  for (const auto& c : cases) {
    auto dir = fresh_dir("score_" + c.name);
    write_text(dir + "/p.csv", kProbsNoHeader);
    write_text(dir + "/y.csv", c.labels);
    auto r = run_endd({"score", "--members", "2", "--probs", dir + "/p.csv", "--labels", dir + "/y.csv", "--out",
                       dir + "/r.json"});
    EXPECT_NE(r.exit_code, 0) << c.name;
    EXPECT_NE(r.err.find(c.expect), std::string::npos) << c.name << ": " << r.err;
    EXPECT_FALSE(exists(dir + "/r.json")) << c.name;
  }
}

TEST(ScoreCommandTest, OodClassCountMustMatch) {
  auto dir = fresh_dir("score_oodk");
  write_text(dir + "/p.csv", kProbsNoHeader);
  write_text(dir + "/y.csv", kLabels);
  write_text(dir + "/ood.csv", "0.2,0.3,0.5,0.2,0.3,0.5\n");
  auto r = run_endd({"score", "--members", "2", "--probs", dir + "/p.csv", "--labels", dir + "/y.csv",
                     "--ood-probs", dir + "/ood.csv", "--out", dir + "/r.json"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("expected 2 x 2"), std::string::npos) << r.err;
}
