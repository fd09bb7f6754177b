// numpy files as a data source and as member outputs, written by numpy itself.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <filesystem>

#include "cli_test_util.h"

using namespace endd::testing;

namespace {
bool python_numpy() { return std::system("/usr/bin/python3 -c 'import numpy' >/dev/null 2>&1") == 0; }
}  // namespace

TEST(NpyCommandTest, NumpyArraysTrainEvaluateAndScore) {
  if (!python_numpy()) GTEST_SKIP() << "numpy (python3-numpy) is not installed";
  const std::string dir = fresh_dir("npy_command");
  const std::string script =
      "import numpy as np\n"
      "rng = np.random.default_rng(0)\n"
      "y = rng.integers(0, 3, 300)\n"
      "X = np.column_stack([y * 2.0 + rng.normal(size=300), rng.normal(size=300), np.zeros(300)])\n"
      "np.save('" + dir + "/X.npy', np.asfortranarray(X))\n"           // float64, Fortran order
      "np.save('" + dir + "/y.npy', np.array(['a', 'b', 'c'])[y])\n"   // text labels
      "np.save('" + dir + "/X32.npy', X.astype('>f4'))\n"               // big-endian float32
      "p = rng.dirichlet(np.ones(3), size=(50, 4))\n"
      "np.save('" + dir + "/probs.npy', p)\n"
      "np.savetxt('" + dir + "/probs.csv', p.reshape(50, 12), delimiter=',')\n";
  write_text(dir + "/write.py", script);
  ASSERT_EQ(std::system(("/usr/bin/python3 " + dir + "/write.py").c_str()), 0);
  auto r = run_endd({"train", "--data", "npy:" + dir + "/X.npy," + dir + "/y.npy", "--members", "2", "--epochs", "5",
                     "--out", dir + "/ens"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto info = nlohmann::json::parse(read_text(dir + "/ens/run.json"));
  EXPECT_EQ(info["labels"], nlohmann::json({"a", "b", "c"}));
  r = run_endd({"evaluate", "--model", dir + "/ens", "--data", "npy:" + dir + "/X32.npy," + dir + "/y.npy", "--out",
                dir + "/ev"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto res = nlohmann::json::parse(read_text(dir + "/ev/results.json"));
  EXPECT_LT(res["models"]["ensemble"]["error"].get<double>(), 40.0);
  r = run_endd({"predict", "--model", dir + "/ens", "--data", dir + "/X32.npy", "--out", dir + "/p.csv"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  // Member outputs as .npy give exactly what the same numbers as CSV give.
  ASSERT_EQ(run_endd({"uncertainty", "--probs", dir + "/probs.npy", "--out", dir + "/u1.csv"}).exit_code, 0);
  ASSERT_EQ(run_endd({"uncertainty", "--members", "4", "--probs", dir + "/probs.csv", "--out", dir + "/u2.csv"}).exit_code, 0);
  EXPECT_EQ(read_text(dir + "/u1.csv"), read_text(dir + "/u2.csv"));
  r = run_endd({"train", "--data", dir + "/X.npy", "--out", dir + "/x"});
  EXPECT_NE(r.err.find("X.npy: no labels; give them as npy:X.npy,Y.npy"), std::string::npos) << r.err;
}
