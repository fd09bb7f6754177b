// Experiments as configurations over the product's stages (issue 17,
// deliverables 3 and 4): `endd experiment cifar10` is a shipped TOML file and
// no C++ of its own. It runs here --quick on small files written in the real
// CIFAR-10 binary format; its stages are run directories that `evaluate`,
// `predict`, `export` and `--resume` take, reused when their settings match.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cstdlib>
#include <algorithm>
#include <filesystem>
#include <random>

#include "cli_test_util.h"

using namespace endd::testing;

namespace {

// CIFAR-10 binary records (1 label byte, then 1,024 bytes per colour plane):
// class k is an 8x8 square in channel k % 3 at grid cell k, over noise.
std::string cifar_records(int n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> noise(0.25, 0.12);
  std::string bytes;
  for (int i = 0; i < n; ++i) {
    const int k = static_cast<int>(rng() % 10);
    bytes += static_cast<char>(k);
    for (int c = 0; c < 3; ++c)
      for (int r = 0; r < 32; ++r)
        for (int col = 0; col < 32; ++col) {
          const bool square = c == k % 3 && r / 8 == k % 4 && col / 8 == k / 4;
          const double v = std::clamp(noise(rng) + (square ? 0.6 : 0.0), 0.0, 1.0);
          bytes += static_cast<char>(static_cast<unsigned char>(v * 255));
        }
  }
  return bytes;
}

std::string write_cifar10(const std::string& dir) {
  std::filesystem::create_directories(dir);
  for (int b = 1; b <= 5; ++b) write_text(dir + "/data_batch_" + std::to_string(b) + ".bin", cifar_records(60, b));
  write_text(dir + "/test_batch.bin", cifar_records(100, 99));
  return dir;
}

std::vector<std::string> cifar_args(const std::string& data, const std::string& out) {
  return {"experiment", "cifar10", "--quick", "--train", "cifar10:" + data + ":train", "--test",
          "cifar10:" + data + ":test", "--ood", "uniform-noise; inverted", "--epochs", "6", "--set",
          "train.batch_size=16", "--set", "distill.batch_size=32", "--distill-epochs", "8", "--out", out};
}

// The exported student on images [N, 3, 32, 32] read from the CIFAR file, against `endd predict`.
}  // namespace

TEST(ClassificationExperiment, Cifar10QuickRunsOverRunDirectoriesAndReusesStages) {
  const std::string dir = fresh_dir("cifar10_experiment");
  const std::string data = write_cifar10(dir + "/cifar-10-batches-bin"), out = dir + "/out";
  auto r = run_endd(cifar_args(data, out));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto results = read_json(out + "/results.json");
  EXPECT_EQ(results["experiment"], "cifar10");
  for (const char* model : {"single", "ensemble", "end", "end2", "end2_aux"}) {
    ASSERT_TRUE(results["models"].contains(model)) << model;
    EXPECT_LT(results["models"][model]["error"].get<double>(), 80.0) << model << " (chance: 90%)";
  }
  EXPECT_LT(results["models"]["ensemble"]["error"].get<double>(), 30.0);
  for (const char* set : {"uniform-noise", "inverted"}) EXPECT_TRUE(results["ood"].contains(set)) << set;
  for (const char* stage : {"ensemble", "end", "end2", "end2_aux"}) {
    EXPECT_EQ(results["stages"][stage], "trained") << stage;
    EXPECT_TRUE(read_json(out + "/" + stage + "/run.json")["finished"].get<bool>()) << stage;
  }
  EXPECT_EQ(read_json(out + "/ensemble/run.json")["model"]["arch"], "vgg");
  EXPECT_TRUE(exists(out + "/figures/end2_aux/ood_inverted_roc.png"));

  // A stage is an ordinary run: `endd evaluate` gives the experiment's figures.
  r = run_endd({"evaluate", "--model", out + "/end2_aux", "--data", "cifar10:" + data + ":test", "--out", dir + "/eval"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto evaluated = read_json(dir + "/eval/results.json")["models"]["end2_aux"];
  EXPECT_DOUBLE_EQ(evaluated["error"].get<double>(), results["models"]["end2_aux"]["error"].get<double>());
  EXPECT_NEAR(evaluated["nll"].get<double>(), results["models"]["end2_aux"]["nll"].get<double>(), 1e-9);

  // ... that `predict` and `export` take; the export reads [N, 3, 32, 32].
  r = run_endd({"predict", "--model", out + "/end2_aux", "--data", "cifar10:" + data + ":test", "--out",
                dir + "/pred.csv"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = run_endd({"export", "--model", out + "/end2_aux", "--out", dir + "/student.pt"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  if (python_has_torch()) {
    // CIFAR-10 binary records: a label byte, then 3 x 32 x 32 pixels.
    EXPECT_TRUE(exported_module_matches(
        dir + "/student.pt",
        "torch.from_numpy((np.fromfile('" + data + "/test_batch.bin', np.uint8).reshape(-1, 3073)[:, 1:]"
        ".reshape(-1, 3, 32, 32) / 255.0).astype(np.float32))",
        dir + "/pred.csv", {"total", "data", "knowledge"}, dir));
  }

  // The same command again reuses every stage and reports the same rows.
  r = run_endd(cifar_args(data, out));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto again = read_json(out + "/results.json");
  for (const char* stage : {"ensemble", "end", "end2", "end2_aux"}) EXPECT_EQ(again["stages"][stage], "reused");
  EXPECT_EQ(again["models"], results["models"]);

  // A changed student setting retrains the students only.
  auto changed = cifar_args(data, out);
  changed.insert(changed.end(), {"--set", "distill.temperature=2"});
  r = run_endd(changed);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto students = read_json(out + "/results.json");
  EXPECT_EQ(students["stages"]["ensemble"], "reused");
  for (const char* stage : {"end", "end2", "end2_aux"}) EXPECT_EQ(students["stages"][stage], "trained");
  EXPECT_EQ(students["models"]["ensemble"], results["models"]["ensemble"]);
  EXPECT_EQ(read_json(out + "/end2/run.json")["finished"], true);
  EXPECT_FALSE(exists(dir + "/out/.end2.replaced"));
}

TEST(ClassificationExperiment, PrintedConfigEditedRunsAsAFileAndAnInterruptedStageResumes) {
  const std::string dir = fresh_dir("cifar10_file");
  const std::string data = write_cifar10(dir + "/data");
  auto args = cifar_args(data, dir + "/unused");
  args.push_back("--print-config");
  auto printed = run_endd(args);
  ASSERT_EQ(printed.exit_code, 0) << printed.err;
  std::string toml = printed.out;
  const std::string line = "students = 'end, end2, end2_aux'";
  ASSERT_NE(toml.find(line), std::string::npos) << toml;
  toml.replace(toml.find(line), line.size(), "students = 'end2_aux'");
  write_text(dir + "/my.toml", toml);

  // Killed during the ensemble's training, then run again: the stage resumes.
  const std::string out = dir + "/out";
  ASSERT_TRUE(run_and_kill({"experiment", dir + "/my.toml", "--out", out}, out + "/ensemble", 2))
      << "the run ended before the kill";
  // Stages are reused only when their settings match: --restart (once
  // fashion-mnist's, for its stage cache) is refused with what to do instead.
  EXPECT_TRUE(refused({"experiment", dir + "/my.toml", "--restart", "--out", out},
                      "--restart: cifar10 reuses a stage only when its settings match", out + "/results.json"));
  auto r = run_endd({"experiment", dir + "/my.toml", "--out", out});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto results = read_json(out + "/results.json");
  EXPECT_EQ(results["stages"]["ensemble"], "resumed");
  EXPECT_FALSE(results["models"].contains("end2"));
  EXPECT_TRUE(results["models"].contains("end2_aux"));
  EXPECT_EQ(read_json(out + "/ensemble/run.json")["epochs_done"], 6);
  // The saved configuration runs again as it is.
  EXPECT_NE(read_text(out + "/config.toml").find("students = 'end2_aux'"), std::string::npos);
}

TEST(ClassificationExperiment, BadSettingsAndMissingDataAreRefusedBeforeAnyWork) {
  const std::string dir = fresh_dir("cifar10_errors");
  const std::string data = write_cifar10(dir + "/data");
  const std::string out = dir + "/out";
  // The quick run's arguments with `extra` flags in place of those it gives.
  auto with = [&](std::vector<std::string> extra) {
    auto a = cifar_args(data, out);
    for (size_t i = 0; i + 1 < extra.size(); i += 2) {
      auto given = std::find(a.begin(), a.end(), extra[i]);
      if (extra[i] != "--set" && given != a.end()) {
        *(given + 1) = extra[i + 1];
      } else {
        a.insert(a.end(), {extra[i], extra[i + 1]});
      }
    }
    return a;
  };
  EXPECT_TRUE(refused(with({"--students", "end, ens2"}),
                      "--students: students: student 'ens2': expected METHOD or METHOD_aux", out));
  EXPECT_TRUE(refused(with({"--students", "end2, end2"}), "student 'end2' is listed twice", out));
  auto stray = cifar_args(data, out);
  stray.insert(stray.end(), {"--members", "3", "4"});
  EXPECT_TRUE(refused(stray, "unexpected argument '4' (each option takes one value)", out));
  // A flag given twice: the last one counts, as with --set.
  auto twice = run_endd({"experiment", "cifar10", "--epochs", "0", "--epochs", "5", "--print-config"});
  ASSERT_EQ(twice.exit_code, 0) << twice.err;
  EXPECT_NE(twice.out.find("epochs = 5"), std::string::npos);
  EXPECT_TRUE(refused(with({"--set", "experiment=spiral"}),
                      "--set experiment=spiral: experiment: expected \"cifar10\", the shipped file", out));
  EXPECT_TRUE(refused(with({"--set", "distill.aux="}),
                      "distill.aux: expected auto, images, generated or a data source for the AUX students (end2_aux)", out));
  EXPECT_TRUE(refused(with({"--set", "distill.temperature=0.5"}),
                      "--set distill.temperature=0.5: distill.temperature: expected >= 1", out));
  EXPECT_TRUE(refused(with({"--ood", "uniform-noise; inverted:uniform-noise"}),
                      "the set name 'uniform-noise' is given twice", out));
  EXPECT_TRUE(refused(with({"--test", "cifar10:" + dir + "/nowhere:test"}), "--test: data.test: " + dir + "/nowhere/test_batch.bin: no such file", out));
  EXPECT_TRUE(refused(with({"--train", "cifar10:" + dir + "/nowhere:train"}), "nowhere/data_batch_1.bin", out));
  // An OOD set of other images than the test set's (28x28 grey, not 32x32 colour).
  std::string idx_images{0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 28, 0, 0, 0, 28};
  idx_images += std::string(2 * 28 * 28, '\x40');
  write_text(dir + "/grey-images", idx_images);
  write_text(dir + "/grey-labels", std::string{0, 0, 8, 1, 0, 0, 0, 2, 1, 2});
  EXPECT_TRUE(refused(with({"--ood", "idx:" + dir + "/grey-images," + dir + "/grey-labels:grey"}),
                      "data.ood: set 'grey': idx:" + dir + "/grey-images," + dir + "/grey-labels: images of 1x28x28 "
                      "(784 values) do not fit the model's 3072 input features", out));
  // A tabular test set has no values in [0, 1] to make noise images of.
  std::string table = "a,b,label\n";
  for (int i = 0; i < 20; ++i) table += std::to_string(i * 3 - 20) + ",7," + std::to_string(i % 2) + "\n";
  write_text(dir + "/t.csv", table);
  EXPECT_TRUE(refused({"experiment", "classification", "--quick", "--train", dir + "/t.csv", "--test", dir + "/t.csv",
                       "--ood", "uniform-noise", "--out", out},
                      "data.ood: uniform-noise (set 'uniform-noise') is made for images with values in [0, 1]", out));
}

TEST(ClassificationExperiment, YourOwnTabularDataThroughTheGenericExperiment) {
  const std::string dir = fresh_dir("classification_tabular");
  // Three Gaussian blobs in 4-D, the label first and named, CRLF line ends.
  std::mt19937_64 rng(3);
  std::normal_distribution<double> noise(0, 1);
  auto blobs = [&](int n, double shift) {
    std::string csv = "kind,x1,x2,x3,x4\r\n";
    for (int i = 0; i < n; ++i) {
      const int k = static_cast<int>(rng() % 3);
      csv += std::string(1, "abc"[k]);
      for (int d = 0; d < 4; ++d) csv += "," + std::to_string(noise(rng) + shift + (d == k ? 4.0 : 0.0));
      csv += "\r\n";
    }
    return csv;
  };
  write_text(dir + "/train.csv", blobs(240, 0));
  write_text(dir + "/test.csv", blobs(90, 0));
  write_text(dir + "/far.csv", blobs(90, 25));
  auto r = run_endd({"experiment", "classification", "--quick", "--train", dir + "/train.csv", "--test",
                     dir + "/test.csv", "--ood", dir + "/far.csv:far", "--set", "data.label_column=kind", "--out",
                     dir + "/out"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto results = read_json(dir + "/out/results.json");
  EXPECT_LT(results["models"]["ensemble"]["error"].get<double>(), 15.0);
  // Far from the data the ensemble disagrees: knowledge uncertainty finds the set.
  EXPECT_GT(results["ood"]["far"]["ensemble"]["knowledge"]["auroc"].get<double>(), 90.0);
  EXPECT_EQ(read_json(dir + "/out/ensemble/run.json")["labels"], nlohmann::json({"a", "b", "c"}));
  // distill.aux = "auto": MLP members on a table get generated AUX inputs.
  EXPECT_NE(read_text(dir + "/out/end2_aux/config.toml").find("aux = 'generated'"), std::string::npos);
  EXPECT_NE(read_text(dir + "/out/end2/config.toml").find("aux = ''"), std::string::npos);
}
