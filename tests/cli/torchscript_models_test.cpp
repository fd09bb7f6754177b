// Your own network (issue 18, deliverables 2 and 3): a TorchScript module
// from Python as the members' architecture (`train --model`) or as the
// student (`distill --student`), through resume, evaluate, predict and
// export. Skipped where Debian's python3-torch is absent (it writes the modules).
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <ATen/ATen.h>

#include <cstdlib>

#include "cli_test_util.h"
#include "endd/runs/run_directory.h"

using namespace endd::testing;

namespace {

// Modules and data written by PyTorch itself: a CNN with batch norm, an MLP
// student, and modules that must be refused.
const char* kWriteModules = R"(
import sys, numpy as np, torch
d = sys.argv[1]
torch.manual_seed(0)
class Cnn(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = torch.nn.Conv2d(1, 4, 3, padding=1)
        self.norm = torch.nn.BatchNorm2d(4)
        self.head = torch.nn.Linear(64, 3)
    def forward(self, x):
        return self.head(torch.relu(self.norm(self.conv(x))).flatten(1))
class Mlp(torch.nn.Module):
    def __init__(self, k: int):
        super().__init__()
        self.hidden = torch.nn.Linear(16, 32)
        self.out = torch.nn.Linear(32, k)
    def forward(self, x):
        return self.out(torch.tanh(self.hidden(x.flatten(1))))
class Scaled(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.lin = torch.nn.Linear(16, 3)
        self.scale = torch.nn.Parameter(torch.ones(1))
    def forward(self, x):
        return self.lin(x.flatten(1)) * self.scale
torch.jit.save(torch.jit.script(Cnn()), d + '/cnn.pt')
torch.jit.save(torch.jit.trace(Mlp(3), torch.zeros(2, 1, 4, 4)), d + '/student.pt')
torch.jit.save(torch.jit.script(Mlp(4)), d + '/four_classes.pt')
torch.jit.save(torch.jit.script(Scaled()), d + '/scaled.pt')
torch.save(Mlp(3).state_dict(), d + '/state_dict.pt')
rng = np.random.RandomState(0)
x = rng.randn(240, 1, 4, 4).astype(np.float32)
y = (x[:, 0, 0, 0] > 0).astype(np.int64) + (x[:, 0, 1, 1] > 0.5)
np.save(d + '/x.npy', x)
np.save(d + '/y.npy', y)
logits = rng.randn(240, 3, 3).astype(np.float32)
np.save(d + '/logits.npy', logits)
open(d + '/truncated.npy', 'wb').write(open(d + '/logits.npy', 'rb').read()[:1000])
)";

// The exported module, loaded in Python on [N, 1, 4, 4] inputs, against
// `endd predict`'s CSV.
class ScriptedModels : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!python_has_torch()) GTEST_SKIP() << "Debian's python3-torch is not installed";
    dir_ = fresh_dir("scripted_models");
    write_text(dir_ + "/write.py", kWriteModules);
    ASSERT_EQ(std::system(("/usr/bin/python3 " + dir_ + "/write.py " + dir_).c_str()), 0);
  }
  std::string path(const std::string& name) const { return dir_ + "/" + name; }
  std::string data() const { return "npy:" + path("x.npy") + "," + path("y.npy"); }
  CliResult train(const std::string& out, int epochs, const std::string& module = "cnn.pt") {
    // A constant learning rate, so that a run extended by --resume equals one
    // that ran all its epochs at once.
    return run_endd({"train", "--data", data(), "--model", path(module), "--members", "3", "--epochs",
                     std::to_string(epochs), "--set", "train.cosine_schedule=false", "--out", path(out)});
  }
  std::string dir_;
};

}  // namespace

TEST_F(ScriptedModels, MembersOfYourArchitectureTrainResumeAndExport) {
  auto r = train("ens", 4);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto info = nlohmann::json::parse(read_text(path("ens/run.json")));
  EXPECT_EQ(info["model"]["arch"], "torchscript");
  EXPECT_EQ(info["sample_shape"], (std::vector<int64_t>{1, 4, 4}));
  EXPECT_TRUE(exists(path("ens/model.pt")));
  // Each member starts from its own seed: no two alike, the same seed alike.
  auto w = weights_of(path("ens"));
  ASSERT_EQ(w.size(), 3u * 6u);  // conv w+b, norm w+b, head w+b per member
  EXPECT_FALSE(at::allclose(w[0], w[6]));
  ASSERT_EQ(train("again", 4).exit_code, 0);
  auto again = weights_of(path("again"));
  for (size_t i = 0; i < w.size(); ++i) EXPECT_TRUE(at::equal(w[i], again[i])) << "tensor " << i;
  // Batch-norm statistics are part of the weights.
  EXPECT_FALSE(at::allclose(endd::runs::load_model(path("ens"), c10::kCPU).net->named_buffers()["0:norm:running_var"],
                            at::ones({4})));
  // Stopped after 2 epochs and resumed to 4: the uninterrupted run, bit for bit.
  ASSERT_EQ(train("resumed", 2).exit_code, 0);
  r = run_endd({"train", "--resume", path("resumed"), "--epochs", "4"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto resumed = weights_of(path("resumed"));
  for (size_t i = 0; i < w.size(); ++i) EXPECT_TRUE(at::equal(w[i], resumed[i])) << "tensor " << i;

  ASSERT_EQ(run_endd({"predict", "--model", path("ens"), "--data", "npy:" + path("x.npy"), "--out", path("p.csv")}).exit_code, 0);
  ASSERT_EQ(run_endd({"export", "--model", path("ens"), "--out", path("ens.ts")}).exit_code, 0);
  EXPECT_TRUE(exported_module_matches(path("ens.ts"), "torch.from_numpy(np.load('" + path("x.npy") + "'))",
                                      path("p.csv"), {"total", "data", "knowledge", "confidence", "p0", "p1", "p2"},
                                      dir_));
}

TEST_F(ScriptedModels, YourStudentLearnsFromAnyTeacherAndExports) {
  ASSERT_EQ(train("ens", 3).exit_code, 0);
  // From an endd teacher; and from outputs in a file, with held-out fidelity.
  auto r = run_endd({"distill", "--teacher", path("ens"), "--student", path("student.pt"), "--epochs", "4",
                     "--eval-data", data(), "--out", path("stu")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto metrics = nlohmann::json::parse(read_text(path("stu/metrics.json")));
  EXPECT_GT(metrics["eval"]["fidelity"]["agreement"].get<double>(), 0.0);
  EXPECT_EQ(metrics["eval"]["fidelity"]["count"], 240);
  EXPECT_TRUE(metrics["eval"].contains("ensemble"));
  r = run_endd({"distill", "--teacher-outputs", path("logits.npy"), "--data", "npy:" + path("x.npy"), "--student",
                path("student.pt"), "--epochs", "3", "--eval-data", "npy:" + path("x.npy"), "--eval-teacher-outputs",
                path("logits.npy"), "--out", path("stu_file")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  metrics = nlohmann::json::parse(read_text(path("stu_file/metrics.json")));
  EXPECT_FALSE(metrics["eval"].contains("student"));  // no labels given
  // The student started from the module's own weights, so an epoch-0 copy
  // is the file: 1 epoch from the same file twice gives the same student.
  ASSERT_EQ(run_endd({"distill", "--teacher", path("ens"), "--student", path("student.pt"), "--epochs", "1", "--out",
                      path("one_a")}).exit_code, 0);
  ASSERT_EQ(run_endd({"distill", "--teacher", path("ens"), "--student", path("student.pt"), "--epochs", "1", "--out",
                      path("one_b")}).exit_code, 0);
  auto a = weights_of(path("one_a")), b = weights_of(path("one_b"));
  for (size_t i = 0; i < a.size(); ++i) EXPECT_TRUE(at::equal(a[i], b[i]));
  // Resumed to more epochs; then evaluate, predict and export.
  r = run_endd({"distill", "--resume", path("stu"), "--epochs", "6"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(run_endd({"evaluate", "--model", path("stu"), "--data", data(), "--out", path("ev")}).exit_code, 0);
  ASSERT_EQ(run_endd({"predict", "--model", path("stu"), "--data", "npy:" + path("x.npy"), "--out", path("p.csv")}).exit_code, 0);
  ASSERT_EQ(run_endd({"export", "--model", path("stu"), "--out", path("stu.ts")}).exit_code, 0);
  EXPECT_TRUE(exported_module_matches(path("stu.ts"), "torch.from_numpy(np.load('" + path("x.npy") + "'))",
                                      path("p.csv"), {"total", "data", "knowledge", "confidence", "p0", "p1", "p2"},
                                      dir_));
  // Without --student the student is the teacher's architecture, from its own seed.
  r = run_endd({"distill", "--teacher", path("ens"), "--epochs", "2", "--out", path("same_arch")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(nlohmann::json::parse(read_text(path("same_arch/run.json")))["model"]["arch"], "torchscript");
}

TEST_F(ScriptedModels, ModulesThatDoNotFitAreRefusedAndLeaveNothing) {
  ASSERT_EQ(train("ens", 1).exit_code, 0);
  struct Case {
    std::vector<std::string> args;
    std::string expect;
  };
  const std::vector<Case> cases{
      {{"train", "--data", data(), "--model", path("four_classes.pt")}, "to [2, 4]; expected [2, 3]"},
      {{"train", "--data", data(), "--model", path("state_dict.pt")}, "not a TorchScript module"},
      {{"train", "--data", data(), "--model", path("scaled.pt")}, "'(top level)' of type Scaled holds parameters (scale)"},
      {{"train", "--data", data(), "--model", path("missing.pt")}, "missing.pt"},
      {{"distill", "--teacher", path("ens"), "--student", path("four_classes.pt")}, "expected [2, 3]"},
      {{"distill", "--teacher", path("ens"), "--student", path("student.pt"), "--set", "model.width=8"},
       "a TorchScript student"},
      {{"distill", "--teacher-outputs", path("truncated.npy"), "--data", "npy:" + path("x.npy")}, "truncated.npy"},
      {{"distill", "--teacher-outputs", path("logits.npy"), "--data", "npy:" + path("x.npy"), "--eval-data",
        "npy:" + path("x.npy")},
       "--eval-teacher-outputs"},
  };
  for (const auto& c : cases) {
    std::vector<std::string> args = c.args;
    args.insert(args.end(), {"--epochs", "1", "--out", path("run")});
    EXPECT_TRUE(refused(args, c.expect, path("run")));
  }
}
