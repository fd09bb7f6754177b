#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "cli_test_util.h"
#include "endd/data/tensor_file.h"
#include "endd/runs/run_directory.h"

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

// Issue 17: the spiral's stages are run directories. `endd evaluate` on a
// student, with the sources results.json names, gives the experiment's own
// figures; a rerun reuses every stage; a changed student setting retrains the
// students only, and one that only EnD^2 uses leaves EnD alone.
TEST(SpiralCommandTest, StagesAreRunDirectoriesThatEvaluateAndRerunsReuse) {
  auto dir = fresh_dir("spiral_stages");
  const std::string out = dir + "/out";
  std::vector<std::string> args{"experiment", "spiral", "--quick", "--members", "4", "--out", out};
  auto r = run_endd(args);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(read_text(out + "/results.json"));
  for (const auto* stage : {"ensemble", "end", "end2", "end2_aux"}) {
    EXPECT_EQ(j["stages"][stage], "trained") << stage;
    EXPECT_TRUE(exists(out + "/" + stage + "/weights.pt")) << stage;
  }
  const std::string test = j["sources"]["test"], far = j["sources"]["ood"]["far"];
  EXPECT_EQ(test.rfind("spiral:test,", 0), 0u) << test;
  // One thread, as the experiment (a training workload) evaluates: evaluate
  // takes every core, and a GEMM's float sums depend on the thread count
  // (measured: NLL 1.3e-9 apart with 2 threads).
  r = run_endd({"--threads", "1", "evaluate", "--model", out + "/end2_aux", "--data", test, "--ood", far + ":far",
                "--out", dir + "/eval"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto e = nlohmann::json::parse(read_text(dir + "/eval/results.json"));
  EXPECT_DOUBLE_EQ(e["models"]["end2_aux"]["error"].get<double>(), j["models"]["end2_aux"]["error"].get<double>());
  EXPECT_NEAR(e["models"]["end2_aux"]["nll"].get<double>(), j["models"]["end2_aux"]["nll"].get<double>(), 1e-9);
  EXPECT_NEAR(e["ood"]["far"]["end2_aux"]["knowledge"]["auroc"].get<double>(),
              j["ood"]["far"]["end2_aux"]["knowledge"]["auroc"].get<double>(), 1e-9);
  // Its results.md: the experiment's table row for the one model.
  const std::string md = read_text(dir + "/eval/results.md");
  char error[16];
  std::snprintf(error, sizeof error, "%.2f", j["models"]["end2_aux"]["error"].get<double>());
  EXPECT_NE(md.find("| end2_aux | " + std::string(error) + " | "), std::string::npos) << md;
  EXPECT_NE(md.find("far AUROC"), std::string::npos) << md;

  r = run_endd(args);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto again = nlohmann::json::parse(read_text(out + "/results.json"));
  for (const auto* stage : {"ensemble", "end", "end2", "end2_aux"}) EXPECT_EQ(again["stages"][stage], "reused") << stage;
  EXPECT_EQ(again["models"], j["models"]);
  EXPECT_EQ(again["ood"], j["ood"]);

  args.insert(args.end(), {"--smoothing", "1e-3"});
  r = run_endd(args);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto smoothed = nlohmann::json::parse(read_text(out + "/results.json"));
  EXPECT_EQ(smoothed["stages"]["ensemble"], "reused");
  EXPECT_EQ(smoothed["stages"]["end"], "reused");
  EXPECT_EQ(smoothed["stages"]["end2"], "trained");
  EXPECT_EQ(smoothed["stages"]["end2_aux"], "trained");
  EXPECT_EQ(smoothed["models"]["ensemble"], j["models"]["ensemble"]);
}

// distill.copies: the transfer set plus jittered copies of the training
// inputs, labelled by the teacher. With no jitter the copies are the inputs
// themselves, so their teacher rows repeat the originals'.
TEST(SpiralCommandTest, JitteredCopiesExtendTheTransferSet) {
  auto dir = fresh_dir("spiral_copies");
  const std::string data = "spiral:train,n=40,noise=0.3,seed=1";
  auto r = run_endd({"train", "--data", data, "--members", "3", "--epochs", "2", "--out", dir + "/ens"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto distill = [&](const std::string& name, std::vector<std::string> extra) {
    std::vector<std::string> a{"distill", "--teacher", dir + "/ens", "--epochs", "1", "--out", dir + "/" + name};
    a.insert(a.end(), extra.begin(), extra.end());
    return run_endd(a);
  };
  ASSERT_EQ(distill("plain", {}).exit_code, 0);
  r = distill("still", {"--set", "distill.copies=2", "--set", "distill.jitter=0"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = distill("jittered", {"--set", "distill.copies=2", "--aux", "disc:n=30,seed=1", "--set", "distill.aux_copies=1"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const at::Tensor plain = endd::data::load_tensor_file(dir + "/plain/teacher_cache.pt");
  const at::Tensor still = endd::data::load_tensor_file(dir + "/still/teacher_cache.pt");
  const at::Tensor jittered = endd::data::load_tensor_file(dir + "/jittered/teacher_cache.pt");
  ASSERT_EQ(plain.size(0), 120);
  ASSERT_EQ(still.size(0), 360);
  ASSERT_EQ(jittered.size(0), 360 + 60);  // [inputs, 2 copies | AUX, 1 copy]
  for (int k = 0; k < 3; ++k) EXPECT_TRUE(at::equal(still.slice(0, 120 * k, 120 * (k + 1)), plain)) << "copy " << k;
  EXPECT_TRUE(at::equal(jittered.slice(0, 0, 120), plain));
  EXPECT_FALSE(at::allclose(jittered.slice(0, 120, 240), plain));
  EXPECT_TRUE(refused({"distill", "--teacher", dir + "/ens", "--set", "distill.aux_copies=2", "--out", dir + "/bad"},
                      "distill.aux_copies: copies of the AUX inputs need AUX inputs (distill.aux)", dir + "/bad"));
  EXPECT_TRUE(refused({"distill", "--teacher", dir + "/ens", "--set", "distill.copies=-1", "--out", dir + "/bad"},
                      "distill.copies: expected 0 to 100, got -1", dir + "/bad"));
}

// Checkpoints of epochs much shorter than writing them are skipped, but the
// last epoch's is always written: a finished run holds every epoch in its
// log and checkpoint, and extends from its end.
TEST(SpiralCommandTest, ShortEpochsStillEndWithACompleteCheckpoint) {
  auto dir = fresh_dir("spiral_checkpoints");
  const std::string run = dir + "/ens";
  auto r = run_endd({"train", "--data", "spiral:train,n=20,seed=2", "--members", "50", "--epochs", "30", "--out", run});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto info = nlohmann::json::parse(read_text(run + "/run.json"));
  EXPECT_EQ(info["epochs_done"].get<int>(), 30);
  EXPECT_EQ(endd::runs::checkpoint_epochs(run + "/checkpoint.pt"), 30);
  const std::string log = read_text(run + "/train_log.csv");
  EXPECT_EQ(std::count(log.begin(), log.end(), '\n'), 31);
  r = run_endd({"train", "--resume", run, "--epochs", "35"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(endd::runs::checkpoint_epochs(run + "/checkpoint.pt"), 35);
}
