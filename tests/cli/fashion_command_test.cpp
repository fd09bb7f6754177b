#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdlib>
#include <filesystem>

#include "cli_test_util.h"

using namespace endd::testing;

TEST(FashionMnistCommandTest, QuickRunWritesEveryModelOodSetAndFigure) {
  if (!std::filesystem::exists("/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz"))
    GTEST_SKIP() << "dataset-fashion-mnist is not installed (scripts/setup.sh installs it)";
  auto dir = fresh_dir("fashion_quick");
  // As a user would (issue 17): print the experiment, edit a value, run the
  // file with --quick. The edit is one no stage depends on (the bootstrap
  // resamples), so the reruns below reuse these stages.
  auto printed = run_endd({"experiment", "fashion-mnist", "--print-config"});
  ASSERT_EQ(printed.exit_code, 0) << printed.err;
  std::string toml = printed.out;
  const auto at = toml.find("bootstrap = 200");
  ASSERT_NE(at, std::string::npos) << toml;
  toml.replace(at, 15, "bootstrap = 60");
  write_text(dir + "_my.toml", toml);
  auto r = run_endd({"experiment", dir + "_my.toml", "--quick", "--out", dir});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto j = nlohmann::json::parse(read_text(dir + "/results.json"));
  EXPECT_EQ(j["experiment"], "fashion-mnist");
  EXPECT_EQ(j["config"]["bootstrap"], 60);       // the edited value
  EXPECT_EQ(j["config"]["train_count"], 6000);   // the quick overlay's
  EXPECT_EQ(j["config"]["members"], 3);
  for (const auto* model : {"single", "ensemble", "end", "end2", "end2_aux"}) {
    const auto& m = j["models"][model];
    ASSERT_TRUE(m["error"].is_number()) << model;
    EXPECT_LT(m["error"].get<double>(), 60.0) << model;  // 10 classes: chance is 90%
    EXPECT_TRUE(std::isfinite(m["nll"].get<double>())) << model;
    for (const auto* set : {"mnist", "uniform_noise", "gaussian_noise", "inverted"}) {
      const auto& d = j["ood"][set][model]["total"];
      ASSERT_TRUE(d["auroc"].is_number()) << model << " " << set;
      EXPECT_GE(d["auroc"].get<double>(), 0.0);
      EXPECT_LE(d["auroc"].get<double>(), 100.0);
    }
  }
  for (const auto* student : {"end2", "end2_aux"})
    EXPECT_TRUE(j["fidelity"][student]["mnist"]["knowledge_pearson"].is_number()) << student;
  for (const auto* f : {"results.md", "figures/ensemble/reliability.csv", "figures/end2_aux/rejection.csv",
                        "figures/end2_aux/ood_mnist_hist.csv", "figures/ensemble/ood_inverted_roc_knowledge.csv"})
    EXPECT_TRUE(exists(dir + "/" + f)) << f;

  // The same ensemble stage by hand through the product path (issue 17):
  // endd train --arch cnn with the quick settings, then endd evaluate on the
  // same test images, gives the experiment's ensemble row exactly (the
  // experiment trains in one-thread shards, the product path in one graph).
  const std::string run = dir + "/by_hand";
  r = run_endd({"train", "--data", "fashion-mnist:train", "--limit", "6000", "--arch", "cnn", "--set",
                "model.stages=8,16", "--set", "model.hidden=64", "--members", "3", "--epochs", "4", "--set",
                "train.learning_rate=2e-3", "--set", "train.augment=crop_flip", "--out", run});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = run_endd({"evaluate", "--model", run, "--data", "fashion-mnist:test", "--limit", "1000", "--out", run + "_eval"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto by_hand = nlohmann::json::parse(read_text(run + "_eval/results.json"))["models"]["ensemble"];
  for (const auto* key : {"error", "nll", "ece", "brier", "parameters", "count"})
    EXPECT_EQ(by_hand[key], j["models"]["ensemble"][key]) << key;
  // The EnD student by hand with the quick student settings: the same up to
  // rounding (the experiment labels the transfer set in batches that include
  // its AUX images, and a convolution's float sums depend on the batch).
  r = run_endd({"distill", "--teacher", run, "--method", "end", "--epochs", "8", "--set", "distill.learning_rate=2e-3",
                "--set", "distill.temperature=5", "--out", run + "_end"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = run_endd({"evaluate", "--model", run + "_end", "--data", "fashion-mnist:test", "--limit", "1000", "--out",
                run + "_end_eval"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto end_by_hand = nlohmann::json::parse(read_text(run + "_end_eval/results.json"))["models"]["end"];
  EXPECT_EQ(end_by_hand["error"], j["models"]["end"]["error"]);
  EXPECT_NEAR(end_by_hand["nll"].get<double>(), j["models"]["end"]["nll"].get<double>(), 1e-5);
  EXPECT_NEAR(end_by_hand["brier"].get<double>(), j["models"]["end"]["brier"].get<double>(), 1e-5);
  // Exported, the CNN student takes [N, 1, 28, 28] images in Python and
  // agrees with `endd predict` (the first 200 test images, read from the IDX file).
  ASSERT_EQ(run_endd({"predict", "--model", run + "_end", "--data", "fashion-mnist:test", "--limit", "200", "--out",
                      run + "_end.csv"}).exit_code, 0);
  ASSERT_EQ(run_endd({"export", "--model", run + "_end", "--out", run + "_end.ts"}).exit_code, 0);
  if (std::system("/usr/bin/python3 -c 'import torch' >/dev/null 2>&1") == 0) {
    write_text(dir + "_check.py", R"(
import sys, csv, gzip, numpy as np, torch
raw = gzip.open('/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz').read()
x = np.frombuffer(raw, np.uint8, offset=16)[:200 * 784].reshape(200, 1, 28, 28) / 255.0
out = torch.jit.load(sys.argv[1])(torch.from_numpy(x.astype(np.float32)))
rows = list(csv.DictReader(open(sys.argv[2])))
assert len(rows) == 200
for key in ['total', 'data', 'knowledge', 'confidence']:
    err = (out[key].double() - torch.tensor([float(r[key]) for r in rows], dtype=torch.float64)).abs().max().item()
    assert err < 1e-5, (key, err)
assert out['prediction'].tolist() == [int(r['prediction']) for r in rows]
)");
    EXPECT_EQ(std::system(("/usr/bin/python3 " + dir + "_check.py " + run + "_end.ts " + run + "_end.csv").c_str()), 0);
  }

  // A rerun of the same file into the same directory resumes from the
  // finished stages and gives the same results; new student settings
  // (--set) retrain only the students.
  // Equal train_seconds (wall clock, part of "models") show a stage was reused.
  const std::string my = dir + "_my.toml";
  auto again = run_endd({"experiment", my, "--quick", "--out", dir}, /*quiet=*/false);
  ASSERT_EQ(again.exit_code, 0) << again.err;
  auto k = nlohmann::json::parse(read_text(dir + "/results.json"));
  EXPECT_EQ(k["models"], j["models"]);
  EXPECT_EQ(k["ood"], j["ood"]);
  // With every student restored, the transfer set is not built or labelled.
  EXPECT_NE(again.err.find("every student resumed"), std::string::npos) << again.err;
  auto changed = run_endd({"experiment", my, "--quick", "--set", "distill.epochs=2", "--out", dir}, /*quiet=*/false);
  ASSERT_EQ(changed.exit_code, 0) << changed.err;
  EXPECT_EQ(changed.err.find("every student resumed"), std::string::npos) << changed.err;
  auto c = nlohmann::json::parse(read_text(dir + "/results.json"));
  EXPECT_EQ(c["models"]["ensemble"], j["models"]["ensemble"]);
  EXPECT_NE(c["models"]["end2"]["nll"], j["models"]["end2"]["nll"]);
  // The proxy loss retrains the EnD^2 students only: EnD does not use it.
  auto proxy = run_endd({"experiment", my, "--quick", "--set", "distill.epochs=2", "--set", "distill.method=end2-proxy",
                         "--out", dir});
  ASSERT_EQ(proxy.exit_code, 0) << proxy.err;
  auto p = nlohmann::json::parse(read_text(dir + "/results.json"));
  EXPECT_EQ(p["config"]["distill"]["end2_method"], "end2-proxy");
  EXPECT_EQ(p["models"]["end"], c["models"]["end"]);
  EXPECT_NE(p["models"]["end2"]["train_seconds"], c["models"]["end2"]["train_seconds"]);
  EXPECT_TRUE(p["ood"]["mnist"]["end2"]["knowledge"]["auroc"].is_number());
  // AUX kept whatever the members' disagreement (the default keeps the most
  // disagreed-on third) retrains only the AUX student.
  EXPECT_EQ(p["config"]["aux_oversample"], 3);
  auto chosen = run_endd({"experiment", my, "--quick", "--set", "distill.epochs=2", "--set", "distill.method=end2-proxy",
                          "--set", "aux.oversample=1", "--out", dir});
  ASSERT_EQ(chosen.exit_code, 0) << chosen.err;
  auto o = nlohmann::json::parse(read_text(dir + "/results.json"));
  EXPECT_EQ(o["config"]["aux_oversample"], 1);
  EXPECT_EQ(o["models"]["end"], p["models"]["end"]);
  EXPECT_EQ(o["models"]["end2"], p["models"]["end2"]);
  EXPECT_NE(o["models"]["end2_aux"]["train_seconds"], p["models"]["end2_aux"]["train_seconds"]);
  // Wider students: twice the channels and hidden units, about 4x the weights.
  auto wide = run_endd({"experiment", "fashion-mnist", "--quick", "--distill-epochs", "1", "--student-width", "2",
                        "--out", dir});
  ASSERT_EQ(wide.exit_code, 0) << wide.err;
  auto w = nlohmann::json::parse(read_text(dir + "/results.json"));
  EXPECT_EQ(w["config"]["student_width"], 2);
  const double member = w["models"]["single"]["parameters"].get<double>();
  for (const auto* student : {"end", "end2", "end2_aux"})
    EXPECT_GT(w["models"][student]["parameters"].get<double>(), 3 * member) << student;
}

TEST(FashionMnistCommandTest, InvalidFlagsFailBeforeAnyWork) {
  auto dir = fresh_dir("fashion_bad");
  const std::vector<std::pair<std::vector<std::string>, std::string>> cases{
      {{"--members", "1"}, "--members: ensemble.members: expected >= 2, got 1"},
      {{"--temperature", "0.2"}, "--temperature: distill.temperature: expected >= 1, got 0.2"},
      {{"--transfer-views", "0"}, "--transfer-views: transfer.views: expected 1 to 8, got 0"},
      {{"--transfer-views", "9"}, "--transfer-views: transfer.views: expected 1 to 8, got 9"},
      {{"--mean-weight", "-1"}, "--mean-weight: distill.mean_weight: expected >= 0, got -1.0"},
      {{"--aux-oversample", "0"}, "--aux-oversample: aux.oversample: expected 1 to 16, got 0"},
      {{"--student-width", "5"}, "--student-width: model.student_width: expected 1 to 4, got 5"},
      {{"--aux-kinds", "mix,blur"}, "--aux-kinds: aux.kinds: "},
      {{"--set", "model.stages=16,x"}, "--set model.stages=16,x: model.stages: "},
      {{"--end2-method", "end"}, "--end2-method"},
  };
  for (const auto& [flags, expect] : cases) {
    std::vector<std::string> args{"experiment", "fashion-mnist"};
    args.insert(args.end(), flags.begin(), flags.end());
    args.insert(args.end(), {"--out", dir + "/o"});
    auto r = run_endd(args);
    EXPECT_EQ(r.exit_code, 2) << flags[0];
    EXPECT_NE(r.err.find(expect), std::string::npos) << r.err;
    EXPECT_FALSE(exists(dir + "/o"));
  }
}
