// Distilling an ensemble trained anywhere: its members' outputs from a file
// (issue 18, deliverable 1).
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <ATen/ATen.h>

#include <random>
#include <sstream>

#include "cli_test_util.h"
#include "endd/data/tensor_file.h"
#include "endd/runs/run_directory.h"

using namespace endd::testing;

// The same teacher logits, once computed by endd from its own run and once
// read from a file, train the same student, bit for bit.
TEST(TeacherOutputsTest, OutputsFromAFileTrainTheStudentAnEnddTeacherWould) {
  const std::string dir = fresh_dir("teacher_outputs");
  write_blobs(dir + "/train.csv", 300, 1);
  ASSERT_EQ(run_endd({"train", "--data", dir + "/train.csv", "--members", "3", "--epochs", "5", "--out", dir + "/ens"}).exit_code, 0);
  auto r = run_endd({"distill", "--teacher", dir + "/ens", "--epochs", "6", "--out", dir + "/from_run"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  // teacher_cache.pt is a torch.save'd [N, M, K] tensor of the members' logits on the training inputs.
  at::Tensor logits = endd::data::load_tensor_file(dir + "/from_run/teacher_cache.pt");
  ASSERT_EQ(logits.sizes(), (std::vector<int64_t>{300, 3, 3}));
  endd::data::save_tensor_file(dir + "/logits.pt", logits);
  r = run_endd({"distill", "--teacher-outputs", dir + "/logits.pt", "--data", dir + "/train.csv", "--epochs", "6",
                "--out", dir + "/from_file"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto a = weights_of(dir + "/from_run"), b = weights_of(dir + "/from_file");
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) EXPECT_TRUE(at::equal(a[i], b[i])) << "tensor " << i;
  auto info = nlohmann::json::parse(read_text(dir + "/from_file/run.json"));
  EXPECT_EQ(info["teacher"], "");
  EXPECT_EQ(info["method"], "end2");

  // Probabilities, AUX inputs with their own outputs, another student width;
  // then evaluate, predict, export and --resume work on the run.
  at::Tensor probs = at::softmax(logits.to(at::kDouble), -1);
  endd::data::save_tensor_file(dir + "/probs.pt", probs);
  write_text(dir + "/aux.csv", "5,5,5\n-5,-5,-5\n0,9,0\n");
  at::Tensor aux_probs = at::full({3, 3, 3}, 1.0 / 3, at::kDouble);
  endd::data::save_tensor_file(dir + "/aux_probs.pt", aux_probs);
  r = run_endd({"distill", "--teacher-outputs", dir + "/probs.pt", "--teacher-kind", "probs", "--data", dir + "/train.csv",
                "--aux", dir + "/aux.csv", "--aux-teacher-outputs", dir + "/aux_probs.pt", "--set", "model.width=16",
                "--epochs", "4", "--out", dir + "/aux_run"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  info = nlohmann::json::parse(read_text(dir + "/aux_run/run.json"));
  EXPECT_EQ(info["model"]["width"], 16);
  EXPECT_TRUE(info["aux"].get<bool>());
  EXPECT_EQ(run_endd({"evaluate", "--model", dir + "/aux_run", "--data", dir + "/train.csv", "--out", dir + "/ev"}).exit_code, 0);
  EXPECT_EQ(run_endd({"predict", "--model", dir + "/aux_run", "--data", dir + "/train.csv", "--out", dir + "/p.csv"}).exit_code, 0);
  EXPECT_EQ(run_endd({"export", "--model", dir + "/aux_run", "--out", dir + "/m.pt"}).exit_code, 0);
  r = run_endd({"distill", "--resume", dir + "/aux_run", "--epochs", "6"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(nlohmann::json::parse(read_text(dir + "/aux_run/run.json"))["epochs_done"], 6);
}

TEST(TeacherOutputsTest, MismatchesAreRefusedBeforeAnyWork) {
  const std::string dir = fresh_dir("teacher_outputs_bad");
  write_blobs(dir + "/train.csv", 50, 2);
  endd::data::save_tensor_file(dir + "/short.pt", at::zeros({49, 3, 3}));
  endd::data::save_tensor_file(dir + "/one.pt", at::zeros({50, 1, 3}));
  at::Tensor bad = at::full({50, 2, 3}, 0.5, at::kDouble);
  endd::data::save_tensor_file(dir + "/bad_probs.pt", bad);
  at::Tensor nan = at::zeros({50, 2, 3});
  nan[3][1][2] = std::nan("");
  endd::data::save_tensor_file(dir + "/nan.pt", nan);
  // AUX and held-out outputs must have the transfer outputs' M and K.
  endd::data::save_tensor_file(dir + "/good.pt", at::zeros({50, 2, 3}));
  write_text(dir + "/aux.csv", "5,5,5\n-5,-5,-5\n0,9,0\n");
  endd::data::save_tensor_file(dir + "/aux_other_m.pt", at::zeros({3, 4, 3}));
  endd::data::save_tensor_file(dir + "/aux_other_k.pt", at::zeros({3, 2, 5}));
  struct Case {
    std::vector<std::string> args;
    std::string expect;
  };
  const std::vector<Case> cases{
      {{"--teacher-outputs", dir + "/short.pt", "--data", dir + "/train.csv"}, "outputs for 49 inputs, but"},
      {{"--teacher-outputs", dir + "/one.pt", "--data", dir + "/train.csv"}, "has 1 member; EnD^2 needs at least 2"},
      {{"--teacher-outputs", dir + "/bad_probs.pt", "--teacher-kind", "probs", "--data", dir + "/train.csv"},
       "probabilities sum to 1.5"},
      {{"--teacher-outputs", dir + "/nan.pt", "--data", dir + "/train.csv"}, "contains NaN or infinity"},
      {{"--teacher-outputs", dir + "/short.pt", "--data", dir + "/train.csv", "--aux", "generated"},
       "cannot run a foreign ensemble"},
      {{"--teacher-outputs", dir + "/short.pt"}, "give both --teacher-outputs FILE and --data SRC"},
      {{"--teacher-outputs", dir + "/good.pt", "--data", dir + "/train.csv", "--aux", dir + "/aux.csv",
        "--aux-teacher-outputs", dir + "/aux_other_m.pt"},
       "outputs of shape [3, 4, 3], expected [3, 2, 3]"},
      {{"--teacher-outputs", dir + "/good.pt", "--data", dir + "/train.csv", "--eval-data", dir + "/train.csv",
        "--eval-teacher-outputs", dir + "/aux_other_k.pt"},
       "outputs of shape [3, 2, 5], expected [50, 2, 3]"},
  };
  for (const auto& c : cases) {
    std::vector<std::string> args{"distill"};
    args.insert(args.end(), c.args.begin(), c.args.end());
    args.insert(args.end(), {"--out", dir + "/run"});
    EXPECT_TRUE(refused(args, c.expect, dir + "/run"));
  }
}
