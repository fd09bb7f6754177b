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
      {{"--members", "0"}, "--members: ensemble.members: expected >= 1, got 0"},
      {{"--temperature", "0.5"}, "--temperature: distill.temperature: expected >= 1, got 0.5"},
      {{"--noise", "-1"}, "--noise: data.noise: expected >= 0, got -1.0"},
      {{"--noise", "abc"}, "--noise: data.noise: expected a number, got 'abc'"},
      {{"--hold", "0.9", "--decay", "0.9"},
       "--decay: distill.decay_fraction: expected distill.hold_fraction + distill.decay_fraction <= 1, got 0.9"},
      {{"--set", "model.activation=swish"}, "--set model.activation=swish: model.activation: expected one of relu, "
                                            "tanh, gelu, leaky_relu, got 'swish'"},
      {{"--set", "data.nosie=1"}, "--set data.nosie=1: unknown key 'data.nosie'; did you mean 'data.noise'?"},
  };
  for (const auto& c : cases) {
    std::vector<std::string> args{"experiment", "spiral", "--quick", "--out", dir + "/o"};
    args.insert(args.end(), c.args.begin(), c.args.end());
    auto r = run_endd(args);
    EXPECT_NE(r.exit_code, 0);
    EXPECT_EQ(r.exit_code, 2) << r.err;  // a typed value out of its range is a usage error
    EXPECT_NE(r.err.find(c.expect), std::string::npos) << r.err;
    EXPECT_FALSE(exists(dir + "/o")) << "work started before the check";
  }
  write_text(dir + "/file", "x");
  auto r = run_endd({"experiment", "spiral", "--quick", "--out", dir + "/file/sub"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find(dir + "/file/sub: cannot create output directory"), std::string::npos) << r.err;
}

// The acceptance of issue 17 for the spiral: print the resolved experiment,
// edit values, run the file with --quick. Edited values stay (even one the
// quick overlay also sets); the rest is the quick overlay's.
TEST(SpiralCommandTest, PrintedConfigEditedAndRunAsAFile) {
  auto dir = fresh_dir("spiral_config_file");
  auto printed = run_endd({"experiment", "spiral", "--print-config"});
  ASSERT_EQ(printed.exit_code, 0) << printed.err;
  std::string text = printed.out;
  // Replaces the value of the line that starts with `key = `.
  auto edit = [&](const std::string& key, const std::string& value) {
    auto at = text.find("\n" + key + " = ");
    ASSERT_NE(at, std::string::npos) << key;
    at += key.size() + 4;
    text.replace(at, text.find(' ', at) - at, value);
  };
  edit("noise", "0.3");
  edit("members", "4");
  write_text(dir + "/my.toml", text);
  auto r = run_endd({"experiment", dir + "/my.toml", "--quick", "--out", dir + "/out"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto j = nlohmann::json::parse(read_text(dir + "/out/results.json"));
  EXPECT_EQ(j["experiment"], "spiral");
  EXPECT_DOUBLE_EQ(j["config"]["noise"].get<double>(), 0.3);
  EXPECT_EQ(j["config"]["members"].get<int>(), 4);
  EXPECT_EQ(j["config"]["per_class"].get<int>(), 500);  // from the quick overlay
  EXPECT_EQ(j["models"]["ensemble"]["members"].get<int>(), 4);
  // The resolved configuration is saved beside the results and runs again as it is.
  const std::string saved = read_text(dir + "/out/config.toml");
  EXPECT_NE(saved.find("noise = 0.3 "), std::string::npos) << saved;
  EXPECT_NE(saved.find("per_class = 500 "), std::string::npos) << saved;

  // Errors in the file name its line; a file for no known experiment is refused.
  write_text(dir + "/bad.toml", "experiment = \"spiral\"\n[data]\nnoise = -0.5\n");
  r = run_endd({"experiment", dir + "/bad.toml", "--out", dir + "/bad_out"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find(dir + "/bad.toml:3: data.noise: expected >= 0, got -0.5"), std::string::npos) << r.err;
  write_text(dir + "/none.toml", "[data]\nnoise = 0.3\n");
  r = run_endd({"experiment", dir + "/none.toml", "--out", dir + "/bad_out"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find(dir + "/none.toml: expected a top-level key experiment = "), std::string::npos) << r.err;
  EXPECT_FALSE(exists(dir + "/bad_out"));
  // The file form takes --set, not the named experiment's flags, and says so.
  r = run_endd({"experiment", dir + "/my.toml", "--noise", "0.3", "--out", dir + "/bad_out"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("with an experiment file, set any key with --set KEY=VALUE"), std::string::npos) << r.err;
  // The output never overwrites the file it was configured by.
  r = run_endd({"experiment", dir + "/out/config.toml", "--quick", "--out", dir + "/out"});
  EXPECT_EQ(r.exit_code, 2) << r.err;
}
