// The user workflow end to end on a CSV data set the test writes:
// train -> distill (EnD^2) -> evaluate -> predict -> export -> Python load.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <ATen/ATen.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <fstream>
#include <random>
#include <sstream>
#include <thread>

#include "cli_test_util.h"
#include "endd/data/numeric_csv.h"
#include "endd/runs/run_directory.h"

using namespace endd::testing;

namespace {

class WorkflowTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir = fresh_dir(::testing::UnitTest::GetInstance()->current_test_info()->name());
    write_blobs(dir + "/train.csv", 600, 1);
    write_blobs(dir + "/test.csv", 300, 2);
    write_blobs(dir + "/ood.csv", 200, 3, false, 12.0);
  }
  std::string dir;
};

}  // namespace

TEST_F(WorkflowTest, TrainDistillEvaluatePredictExportAgree) {
  auto r = run_endd({"train", "--data", "csv:" + dir + "/train.csv", "--members", "4", "--epochs", "15", "--out",
                     dir + "/ens"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  for (const auto* f : {"run.json", "config.toml", "weights.pt", "checkpoint.pt", "train_log.csv", "metrics.json"})
    EXPECT_TRUE(exists(dir + "/ens/" + std::string(f))) << f;
  r = run_endd({"distill", "--teacher", dir + "/ens", "--method", "end2", "--aux", "generated", "--epochs", "20",
                "--out", dir + "/stu"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(exists(dir + "/stu/teacher_cache.pt"));
  r = run_endd({"evaluate", "--model", dir + "/stu", "--data", dir + "/test.csv", "--ood", dir + "/ood.csv:far",
                "--out", dir + "/eval"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto res = read_json(dir + "/eval/results.json");
  ASSERT_TRUE(res["models"]["end2_aux"]["error"].is_number());
  EXPECT_TRUE(res["ood"]["far"]["end2_aux"]["knowledge"]["auroc"].is_number());
  for (const auto* f : {"reliability.csv", "rejection.csv", "ood_far_hist.csv", "ood_far_roc_knowledge.csv"})
    EXPECT_TRUE(exists(dir + "/eval/" + std::string(f))) << f;
  // The pictures need gnuplot (scripts/setup.sh installs it); the data beside them does not.
  if (std::system("command -v gnuplot >/dev/null 2>&1") == 0)
    for (const auto* f : {"reliability.png", "rejection.png", "ood_far_hist.png", "ood_far_roc.png"})
      EXPECT_TRUE(exists(dir + "/eval/" + std::string(f))) << f;
  r = run_endd({"predict", "--model", dir + "/stu", "--data", dir + "/test.csv", "--out", dir + "/preds.csv"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  // The error evaluate reports is the error of predict's predictions.
  auto preds = endd::data::read_numeric_csv(dir + "/preds.csv");
  auto test = endd::data::read_numeric_csv(dir + "/test.csv");
  ASSERT_EQ(preds.rows, test.rows);
  EXPECT_EQ(preds.header.front(), "prediction");
  EXPECT_EQ(preds.header.back(), "diff_entropy");
  int wrong = 0;
  for (int64_t i = 0; i < preds.rows; ++i) wrong += preds.values[i * preds.cols] != test.values[i * test.cols + 3];
  EXPECT_NEAR(res["models"]["end2_aux"]["error"].get<double>(), 100.0 * wrong / preds.rows, 1e-9);
  EXPECT_LT(res["models"]["end2_aux"]["error"].get<double>(), 30.0);  // it learned the blobs
  r = run_endd({"export", "--model", dir + "/stu", "--out", dir + "/model.pt"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  if (!python_has_torch()) GTEST_SKIP() << "Debian's python3-torch is not installed";
  std::string script = dir + "/check.py";
  write_text(script,
             "import sys, torch, numpy as np\n"
             "m = torch.jit.load(sys.argv[1])\n"
             "x = torch.tensor(np.loadtxt(sys.argv[2], delimiter=',')[:, :3], dtype=torch.float32)\n"
             "o = m(x)\n"
             "p = np.genfromtxt(sys.argv[3], delimiter=',', names=True)\n"
             "assert (o['prediction'].numpy() == p['prediction']).all()\n"
             "for k in ['confidence', 'total', 'data', 'knowledge', 'epkl', 'alpha0', 'diff_entropy']:\n"
             "    err = np.max(np.abs(o[k].numpy() - p[k]) / np.maximum(1.0, np.abs(p[k])))\n"
             "    assert err < 1e-5, (k, err)\n"
             "print('ok')\n");
  std::string cmd = "/usr/bin/python3 " + script + " " + dir + "/model.pt " + dir + "/test.csv " + dir + "/preds.csv";
  EXPECT_EQ(std::system(cmd.c_str()), 0) << cmd;
}

TEST_F(WorkflowTest, ProxyDirichletStudentIsAPriorNetwork) {
  auto r = run_endd({"train", "--data", "csv:" + dir + "/train.csv", "--members", "4", "--epochs", "15", "--out",
                     dir + "/ens"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = run_endd({"distill", "--teacher", dir + "/ens", "--method", "end2-proxy", "--epochs", "20", "--out",
                dir + "/stu"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(read_json(dir + "/stu/run.json")["method"], "end2-proxy");
  r = run_endd({"evaluate", "--model", dir + "/stu", "--data", dir + "/test.csv", "--ood", dir + "/ood.csv:far",
                "--out", dir + "/eval"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto res = read_json(dir + "/eval/results.json");
  EXPECT_LT(res["models"]["end2-proxy"]["error"].get<double>(), 30.0);
  EXPECT_TRUE(res["ood"]["far"]["end2-proxy"]["knowledge"]["auroc"].is_number());
  r = run_endd({"predict", "--model", dir + "/stu", "--data", dir + "/test.csv", "--out", dir + "/preds.csv"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(endd::data::read_numeric_csv(dir + "/preds.csv").header.back(), "diff_entropy");  // Dirichlet columns
  r = run_endd({"distill", "--teacher", dir + "/ens", "--set", "distill.proxy_max_precision=0", "--out",
                dir + "/bad"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("distill.proxy_max_precision"), std::string::npos) << r.err;
  r = run_endd({"distill", "--teacher", dir + "/ens", "--set", "distill.proxy_max_precision=1e9", "--out",
                dir + "/bad2"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("distill.proxy_max_precision: expected in (0, 1e8], got 1000000000.0"), std::string::npos) << r.err;
}

TEST_F(WorkflowTest, KilledRunsResumeToTheUninterruptedWeights) {
  write_blobs(dir + "/big.csv", 4000, 4);
  std::vector<std::string> train{"train", "--data", dir + "/big.csv", "--members", "8", "--epochs", "40",
                                 "--set", "model.width=128"};
  auto with_out = [](std::vector<std::string> a, const std::string& out) {
    a.insert(a.end(), {"--out", out});
    return a;
  };
  ASSERT_EQ(run_endd(with_out(train, dir + "/full")).exit_code, 0);
  ASSERT_TRUE(run_and_kill(with_out(train, dir + "/cut"), dir + "/cut", 5)) << "run finished before the kill";
  EXPECT_FALSE(read_json(dir + "/cut/run.json")["finished"].get<bool>());
  std::string log_before = read_text(dir + "/cut/train_log.csv");
  auto r = run_endd({"train", "--resume", dir + "/cut"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  // The epochs done before the kill were kept, not redone: their log rows
  // (wall times included) are unchanged, and the log now has all 40.
  std::string log_after = read_text(dir + "/cut/train_log.csv");
  EXPECT_EQ(log_after.substr(0, log_before.size()), log_before);
  EXPECT_EQ(std::count(log_after.begin(), log_after.end(), '\n'), 41);
  auto a = weights_of(dir + "/full"), b = weights_of(dir + "/cut");
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) EXPECT_TRUE(at::equal(a[i], b[i])) << "tensor " << i;

  std::vector<std::string> distill{"distill", "--teacher", dir + "/full", "--epochs", "40", "--aux", "generated"};
  ASSERT_EQ(run_endd(with_out(distill, dir + "/s_full")).exit_code, 0);
  ASSERT_TRUE(run_and_kill(with_out(distill, dir + "/s_cut"), dir + "/s_cut", 4));
  log_before = read_text(dir + "/s_cut/train_log.csv");
  r = run_endd({"distill", "--resume", dir + "/s_cut"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(read_text(dir + "/s_cut/train_log.csv").substr(0, log_before.size()), log_before);
  a = weights_of(dir + "/s_full");
  b = weights_of(dir + "/s_cut");
  for (size_t i = 0; i < a.size(); ++i) EXPECT_TRUE(at::equal(a[i], b[i])) << "student tensor " << i;
}

TEST_F(WorkflowTest, BadInputGivesClearErrors) {
  ASSERT_EQ(run_endd({"train", "--data", dir + "/train.csv", "--members", "2", "--epochs", "2", "--out", dir + "/ens"})
                .exit_code, 0);
  ASSERT_EQ(run_endd({"distill", "--teacher", dir + "/ens", "--epochs", "2", "--out", dir + "/stu"}).exit_code, 0);
  write_text(dir + "/bad.toml", "[train]\nepoch = 3\n");
  write_text(dir + "/type.toml", "[train]\nmembers = \"five\"\n");
  write_text(dir + "/two_cols.csv", "1,2\n3,4\n");
  write_text(dir + "/empty.csv", "");
  write_text(dir + "/nan.csv", "1,2,3,0\n1,nan,3,1\n");
  write_text(dir + "/label9.csv", "1,2,3,9\n");
  write_text(dir + "/train.csv.pt", "1,2,3,0\n");
  struct Case {
    std::string name;
    std::vector<std::string> args;
    std::string expect;
  };
  const std::vector<Case> cases{
      {"unknown key", {"train", "--data", dir + "/train.csv", "--config", dir + "/bad.toml", "--out", dir + "/x1"},
       "bad.toml:2: unknown key 'train.epoch'; did you mean 'train.epochs'?"},
      {"wrong type", {"train", "--data", dir + "/train.csv", "--config", dir + "/type.toml", "--out", dir + "/x2"},
       "type.toml:2: train.members: expected an integer"},
      {"missing run", {"predict", "--model", dir + "/nope", "--data", dir + "/test.csv", "--out", dir + "/p.csv"},
       dir + "/nope: no such run directory"},
      {"foreign dir", {"evaluate", "--model", dir, "--data", dir + "/test.csv", "--out", dir + "/ev"},
       dir + ": not an endd run directory (no run.json)"},
      {"student as teacher", {"distill", "--teacher", dir + "/stu", "--out", dir + "/x3"},
       "is a distilled student; distil from an ensemble run"},
      {"shape", {"predict", "--model", dir + "/ens", "--data", dir + "/two_cols.csv", "--out", dir + "/p.csv"},
       "two_cols.csv: 2 columns, but the model takes 3 features"},
      {"resume finished", {"train", "--resume", dir + "/ens"}, "the run has already finished after 2 epochs; nothing to resume"},
      {"resume foreign", {"train", "--resume", dir}, "not an endd run directory"},
      {"resume other kind", {"train", "--resume", dir + "/stu"}, "is a distillation run; resume it with endd distill"},
      {"existing run", {"train", "--data", dir + "/train.csv", "--out", dir + "/ens"}, "already holds a run"},
      {"empty data", {"train", "--data", dir + "/empty.csv", "--out", dir + "/x5"}, "empty.csv: the file is empty"},
      {"nan feature", {"train", "--data", dir + "/nan.csv", "--out", dir + "/x6"}, "nan.csv:2: column 2: value 'nan' is not finite"},
      {"label range", {"evaluate", "--model", dir + "/ens", "--data", dir + "/label9.csv", "--out", dir + "/ev2"},
       "label9.csv:1: label '9' is not one of the model's 3 classes (0, 1, 2)"},
      {"wrong kind of file", {"uncertainty", "--probs", dir + "/train.csv.pt", "--out", dir + "/u.csv"},
       "train.csv.pt: not a PyTorch file"},
  };
  for (const auto& c : cases) {
    auto r = run_endd(c.args);
    EXPECT_NE(r.exit_code, 0) << c.name;
    EXPECT_NE(r.err.find(c.expect), std::string::npos) << c.name << ": " << r.err;
  }
  // Teacher and student class counts that differ (a teacher retrained on other data).
  auto info = nlohmann::json::parse(read_text(dir + "/stu/run.json"));
  info["classes"] = 4;
  info["labels"] = {"0", "1", "2", "3"};
  info["finished"] = false;
  write_text(dir + "/stu/run.json", info.dump());
  auto r = run_endd({"distill", "--resume", dir + "/stu"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("the student has 4 classes and 3 inputs but its teacher"), std::string::npos) << r.err;
}
