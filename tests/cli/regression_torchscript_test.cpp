// Regression with your own networks (issue 19, deliverable 1; issue 18's
// modules): TorchScript members with 2 outputs (a mean and a variance
// before its softplus), and TorchScript students with 2 (EnD: a Gaussian)
// or 4 outputs (EnD^2: m and the logarithms of kappa, alpha - 2, beta), from
// an endd teacher of either kind or from members' outputs in a file; then
// resume, predict and an export that agrees with `endd predict` in Python.
// Skipped where Debian's python3-torch is absent (it writes the modules).
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <ATen/ATen.h>

#include <cstdlib>
#include <sstream>

#include "cli_test_util.h"

using namespace endd::testing;

namespace {

// A table y = 2 x1 - x2 + noise growing with |x1| (x1 in the hundreds, so
// that a module taking the raw features differs from one taking them
// standardised), and modules of 2, 4 and 3 outputs.
const char* kWrite = R"(
import sys, numpy as np, torch
d = sys.argv[1]
torch.manual_seed(0)
rng = np.random.RandomState(0)
def table(path, n):
    x1 = rng.uniform(-300, 300, n); x2 = rng.uniform(-3, 3, n)
    y = 0.01 * x1 - x2 + rng.randn(n) * (0.3 + 0.002 * np.abs(x1))
    with open(path, 'w') as f:
        f.write('x1,x2,y\n')
        for row in zip(x1, x2, y): f.write('%.6f,%.6f,%.6f\n' % row)
table(d + '/train.csv', 300)
table(d + '/test.csv', 100)
class Net(torch.nn.Module):
    def __init__(self, k: int):
        super().__init__()
        self.hidden = torch.nn.Linear(2, 32)
        self.out = torch.nn.Linear(32, k)
    def forward(self, x):
        return self.out(torch.tanh(self.hidden(x * torch.tensor([0.005, 0.5]))))
for k, name in [(2, 'gaussian'), (4, 'prior'), (3, 'three')]:
    torch.jit.save(torch.jit.script(Net(k)), d + '/' + name + '.pt')
)";

// The exported module against `endd predict`, every column; and the
// Normal-Gamma's parameters are among its outputs.
const char* kCompare = R"(
import sys, numpy as np, torch
x = np.loadtxt(sys.argv[1], delimiter=',', skiprows=1)[:, :2]
out = torch.jit.load(sys.argv[2])(torch.tensor(x, dtype=torch.float32))
p = np.genfromtxt(sys.argv[3], delimiter=',', names=True)
worst = max(float(np.max(np.abs(out[k].numpy() - p[k]) / np.maximum(1.0, np.abs(p[k])))) for k in p.dtype.names)
assert all(k in out for k in ('m', 'kappa', 'alpha', 'beta')), sorted(out)
assert worst < 1e-5, worst
)";

class RegressionModules : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!python_has_torch()) GTEST_SKIP() << "Debian's python3-torch is not installed";
    dir_ = fresh_dir("regression_modules");
    write_text(path("write.py"), kWrite);
    ASSERT_EQ(std::system(("/usr/bin/python3 " + path("write.py") + " " + dir_).c_str()), 0);
  }
  std::string path(const std::string& name) const { return dir_ + "/" + name; }
  std::string dir_;
};

}  // namespace

TEST_F(RegressionModules, YourMembersAndStudentsRegressThroughEveryStage) {
  auto r = run_endd({"train", "--task", "regression", "--data", path("train.csv"), "--model", path("gaussian.pt"),
                     "--members", "3", "--epochs", "30", "--out", path("ens")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(nlohmann::json::parse(read_text(path("ens/run.json")))["model"]["arch"], "torchscript");
  // Learnt: the training RMSE well below the targets' spread (about 3).
  EXPECT_LT(nlohmann::json::parse(read_text(path("ens/metrics.json")))["train"]["rmse"].get<double>(), 1.5);

  // EnD takes the teacher's 2-output module; EnD^2 needs a student of 4.
  r = run_endd({"distill", "--teacher", path("ens"), "--method", "end", "--epochs", "5", "--out", path("end")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(nlohmann::json::parse(read_text(path("end/run.json")))["model"]["arch"], "torchscript");
  EXPECT_TRUE(refused({"distill", "--teacher", path("ens"), "--method", "end2", "--epochs", "1", "--out",
                       path("no")},
                      "for end2 give a student module with 4 outputs", path("no")));
  EXPECT_TRUE(refused({"distill", "--teacher", path("ens"), "--method", "end2", "--student", path("three.pt"),
                       "--epochs", "1", "--out", path("no")},
                      "expected [2, 4]", path("no")));
  r = run_endd({"distill", "--teacher", path("ens"), "--method", "end2", "--student", path("prior.pt"), "--aux",
                "generated", "--epochs", "40", "--out", path("end2")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto info = nlohmann::json::parse(read_text(path("end2/run.json")));
  EXPECT_EQ(info["model"]["arch"], "torchscript");
  EXPECT_EQ(info["method"], "end2");
  r = run_endd({"evaluate", "--model", path("end2"), "--data", path("test.csv"), "--out", path("ev")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto results = nlohmann::json::parse(read_text(path("ev/results.json")));
  EXPECT_LT(results["models"]["end2_aux"]["rmse"].get<double>(), 1.5);
  // Resumed to more epochs, then predicted and exported.
  r = run_endd({"distill", "--resume", path("end2"), "--epochs", "45"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = run_endd({"predict", "--model", path("end2"), "--data", path("test.csv"), "--out", path("p.csv")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = run_endd({"export", "--model", path("end2"), "--out", path("end2.ts")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  write_text(path("compare.py"), kCompare);
  EXPECT_EQ(std::system(("/usr/bin/python3 " + path("compare.py") + " " + path("test.csv") + " " + path("end2.ts") +
                         " " + path("p.csv")).c_str()),
            0);
}

TEST_F(RegressionModules, YourStudentLearnsFromEnddMembersAndFromAFile) {
  // endd's MLP members take standardised features; the module takes them raw.
  auto r = run_endd({"train", "--task", "regression", "--data", path("train.csv"), "--members", "3", "--epochs",
                     "30", "--out", path("mlp")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = run_endd({"distill", "--teacher", path("mlp"), "--method", "end2", "--student", path("prior.pt"), "--epochs",
                "60", "--out", path("st")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = run_endd({"evaluate", "--model", path("mlp"), "--data", path("test.csv"), "--out", path("ev_mlp")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = run_endd({"evaluate", "--model", path("st"), "--data", path("test.csv"), "--out", path("ev_st")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const double ens = nlohmann::json::parse(read_text(path("ev_mlp/results.json")))["models"]["ensemble"]["rmse"];
  const double st = nlohmann::json::parse(read_text(path("ev_st/results.json")))["models"]["end2"]["rmse"];
  EXPECT_LT(st, 1.3 * ens) << "the student took its inputs as its teacher's members did not";
  // Members from a file: two Gaussians made from the student's predictive
  // on the training inputs, their means shifted by -0.2 and +0.2.
  r = run_endd({"predict", "--model", path("st"), "--data", path("train.csv"), "--out", path("tp.csv")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::string csv = "m1_mean,m1_var,m2_mean,m2_var\n";
  {
    std::istringstream lines(read_text(path("tp.csv")));
    std::string line;
    std::getline(lines, line);
    while (std::getline(lines, line)) {
      const double mean = std::stod(line), var = std::stod(line.substr(line.find(',') + 1));
      csv += std::to_string(mean - 0.2) + "," + std::to_string(var) + "," + std::to_string(mean + 0.2) + "," +
             std::to_string(var) + "\n";
    }
  }
  write_text(path("members.csv"), csv);
  r = run_endd({"distill", "--teacher-outputs", path("members.csv"), "--teacher-kind", "gaussian", "--members", "2",
                "--data", path("train.csv"), "--method", "end2", "--student", path("prior.pt"), "--epochs", "5",
                "--out", path("from_file")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(nlohmann::json::parse(read_text(path("from_file/run.json")))["model"]["arch"], "torchscript");
  r = run_endd({"predict", "--model", path("from_file"), "--data", path("test.csv"), "--out", path("fp.csv")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
}
