// Regression through the run-directory workflow (issue 19): endd train
// --task regression on a user's table, distil, evaluate, predict, export,
// resume, and bad requests refused without leftovers.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "cli_test_util.h"

using namespace endd::testing;

namespace {

// y = 2 x1 - x2 + noise of sd 0.3 + 0.3 |x1|, x uniform on [-3, 3]^2; the
// target in the middle column, a pandas index first, CRLF line ends.
void write_table(const std::string& path, int64_t n, uint64_t seed, bool with_target = true, double shift = 0) {
  at::Generator g = at::make_generator<at::CPUGeneratorImpl>(seed);
  at::Tensor x = at::rand({n, 2}, g, at::kDouble) * 6 - 3 + shift;
  at::Tensor noise = at::randn({n}, g, at::kDouble) * (0.3 + 0.3 * x.select(1, 0).abs());
  at::Tensor y = 2 * x.select(1, 0) - x.select(1, 1) + noise;
  std::ostringstream out;
  out.precision(10);
  out << (with_target ? ",x1,price,x2\r\n" : ",x1,x2\r\n");
  for (int64_t i = 0; i < n; ++i) {
    out << i << "," << x[i][0].item<double>() << ",";
    if (with_target) out << y[i].item<double>() << ",";
    out << x[i][1].item<double>() << "\r\n";
  }
  write_text(path, out.str());
}

std::vector<std::vector<double>> read_csv_numbers(const std::string& path, std::vector<std::string>& header) {
  std::istringstream lines(read_text(path));
  std::string line, cell;
  std::getline(lines, line);
  std::istringstream h(line);
  while (std::getline(h, cell, ',')) header.push_back(cell);
  std::vector<std::vector<double>> rows;
  while (std::getline(lines, line)) {
    std::istringstream r(line);
    rows.emplace_back();
    while (std::getline(r, cell, ',')) rows.back().push_back(std::stod(cell));
  }
  return rows;
}

// A little-endian .npy file (format 1.0) of `values` with `shape`; descr "<f4" or "<f8".
template <typename T>
void write_npy(const std::string& path, const std::vector<int64_t>& shape, const std::vector<T>& values) {
  std::string dims;
  for (int64_t d : shape) dims += std::to_string(d) + ",";
  if (shape.size() > 1) dims.pop_back();
  std::string header = std::string("{'descr': '") + (sizeof(T) == 4 ? "<f4" : "<f8") +
                       "', 'fortran_order': False, 'shape': (" + dims + "), }";
  while ((10 + header.size() + 1) % 64 != 0) header += ' ';
  header += '\n';
  std::string bytes = "\x93NUMPY";
  bytes += char(1);
  bytes += char(0);
  bytes += char(header.size() & 0xff);
  bytes += char(header.size() >> 8);
  bytes += header;
  bytes.append(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(T));
  write_text(path, bytes);
}

}  // namespace

TEST(RegressionWorkflowTest, ImageMembersRegressThroughEveryStage) {
  // 8x8 images; the target is 10 x the mean of the left half plus noise.
  const std::string dir = fresh_dir("regression_images");
  at::Generator g = at::make_generator<at::CPUGeneratorImpl>(11);
  at::Tensor x = at::rand({240, 1, 8, 8}, g, at::kFloat);
  at::Tensor y = x.slice(3, 0, 4).mean({1, 2, 3}).to(at::kDouble) * 10 + 0.1 * at::randn({240}, g, at::kDouble);
  write_npy<float>(dir + "/x.npy", {240, 1, 8, 8}, std::vector<float>(x.data_ptr<float>(), x.data_ptr<float>() + x.numel()));
  write_npy<double>(dir + "/y.npy", {240}, std::vector<double>(y.data_ptr<double>(), y.data_ptr<double>() + 240));
  const std::string data = "npy:" + dir + "/x.npy," + dir + "/y.npy";
  auto r = run_endd({"train", "--task", "regression", "--arch", "cnn", "--set", "model.stages=8", "--set",
                     "model.hidden=16", "--data", data, "--members", "2", "--epochs", "30", "--out", dir + "/ens"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto info = nlohmann::json::parse(read_text(dir + "/ens/run.json"));
  EXPECT_EQ(info["sample_shape"], (std::vector<int64_t>{1, 8, 8}));
  // Learnt something: the training RMSE below the targets' spread.
  auto metrics = nlohmann::json::parse(read_text(dir + "/ens/metrics.json"));
  EXPECT_LT(metrics["train"]["rmse"].get<double>(), 0.9 * y.std().item<double>());
  r = run_endd({"distill", "--teacher", dir + "/ens", "--method", "end2", "--epochs", "20", "--out", dir + "/st"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(nlohmann::json::parse(read_text(dir + "/st/run.json"))["model"]["arch"], "cnn");
  r = run_endd({"evaluate", "--model", dir + "/st", "--data", data, "--out", dir + "/ev"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(nlohmann::json::parse(read_text(dir + "/ev/results.json"))["models"]["end2"]["count"], 240);
  r = run_endd({"predict", "--model", dir + "/st", "--data", "npy:" + dir + "/x.npy", "--out", dir + "/p.csv"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = run_endd({"export", "--model", dir + "/st", "--out", dir + "/st.pt"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  if (std::system("/usr/bin/python3 -c 'import torch, numpy' >/dev/null 2>&1") != 0)
    GTEST_SKIP() << "Debian's python3-torch is not installed: the export was not compared in Python";
  // The exported CNN student takes [N, 1, 8, 8] and agrees with `endd predict`.
  write_text(dir + "/compare.py",
             "import sys, numpy as np, torch\n"
             "out = torch.jit.load(sys.argv[2])(torch.tensor(np.load(sys.argv[1])))\n"
             "p = np.genfromtxt(sys.argv[3], delimiter=',', names=True)\n"
             "worst = max(float(np.max(np.abs(out[k].numpy() - p[k]) / np.maximum(1.0, np.abs(p[k])))) for k in "
             "p.dtype.names)\n"
             "open(sys.argv[4], 'w').write(repr(worst))\n");
  const std::string cmd = "/usr/bin/python3 " + dir + "/compare.py " + dir + "/x.npy " + dir + "/st.pt " + dir +
                          "/p.csv " + dir + "/worst.txt";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  EXPECT_LT(std::stod(read_text(dir + "/worst.txt")), 1e-5);
}

TEST(RegressionWorkflowTest, TrainDistillEvaluatePredictExportOnAUsersTable) {
  const std::string dir = fresh_dir("regression_workflow");
  write_table(dir + "/train.csv", 400, 1);
  write_table(dir + "/test.csv", 200, 2);
  write_table(dir + "/far.csv", 100, 3, /*with_target=*/false, /*shift=*/9);
  auto r = run_endd({"train", "--task", "regression", "--data", dir + "/train.csv", "--target-column", "price",
                     "--members", "4", "--epochs", "40", "--val-fraction", "0.1", "--early-stopping", "10", "--out",
                     dir + "/ens"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto info = nlohmann::json::parse(read_text(dir + "/ens/run.json"));
  EXPECT_EQ(info["task"], "regression");
  EXPECT_EQ(info["features"], (std::vector<std::string>{"x1", "x2"}));
  r = run_endd({"distill", "--teacher", dir + "/ens", "--method", "end2", "--aux", "generated", "--epochs", "60",
                "--out", dir + "/end2"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  for (const auto* run : {"ens", "end2"}) {
    r = run_endd({"evaluate", "--model", dir + "/" + run, "--data", dir + "/test.csv", "--ood", dir + "/far.csv",
                  "--out", dir + "/eval_" + run});
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  auto ens = nlohmann::json::parse(read_text(dir + "/eval_ens/results.json"));
  auto st = nlohmann::json::parse(read_text(dir + "/eval_end2/results.json"));
  EXPECT_EQ(st["task"], "regression");
  const double ens_rmse = ens["models"]["ensemble"]["rmse"].get<double>();
  // The noise alone has an sd of about 0.75; the targets' spread is about 3.9.
  EXPECT_LT(ens_rmse, 1.2);
  EXPECT_LT(st["models"]["end2_aux"]["rmse"].get<double>(), 1.1 * ens_rmse);
  EXPECT_GT(st["models"]["end2_aux"]["coverage_90"].get<double>(), 75.0);
  // Inputs 9 units beyond the data: the knowledge uncertainty tells them apart.
  EXPECT_GT(ens["ood"]["far"]["ensemble"]["knowledge_variance"]["auroc"].get<double>(), 95.0);
  EXPECT_GT(st["ood"]["far"]["end2_aux"]["knowledge_variance"]["auroc"].get<double>(), 95.0);

  // The figures' data agree with results.json: the coverage curve at 90%,
  // and the rejection curve's ends (nothing rejected: the MSE; all: 0).
  std::vector<std::string> cov_header, rej_header;
  auto coverage = read_csv_numbers(dir + "/eval_end2/coverage.csv", cov_header);
  ASSERT_EQ(coverage.size(), 21u);
  EXPECT_DOUBLE_EQ(coverage[18][0], 90.0);
  EXPECT_NEAR(coverage[18][1], st["models"]["end2_aux"]["coverage_90"].get<double>(), 1e-6);
  auto rejection = read_csv_numbers(dir + "/eval_end2/rejection.csv", rej_header);
  ASSERT_EQ(rejection.size(), 101u);
  const double rmse = st["models"]["end2_aux"]["rmse"].get<double>();
  for (size_t c = 1; c <= 3; ++c) {
    EXPECT_NEAR(rejection.front()[c], rmse * rmse, 1e-6 * rmse * rmse) << rej_header[c];
    EXPECT_NEAR(rejection.back()[c], 0.0, 1e-9) << rej_header[c];
  }
  for (size_t k = 0; k < rejection.size(); ++k)  // no ranking rejects better than the oracle
    EXPECT_LE(rejection[k][3], rejection[k][1] + 1e-9) << k;

  r = run_endd({"predict", "--model", dir + "/end2", "--data", dir + "/test.csv", "--out", dir + "/p.csv"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::vector<std::string> header;
  auto rows = read_csv_numbers(dir + "/p.csv", header);
  EXPECT_EQ(header, (std::vector<std::string>{"prediction", "total_variance", "data_variance", "knowledge_variance",
                                              "total", "data", "knowledge"}));
  ASSERT_EQ(rows.size(), 200u);
  for (const auto& row : rows) {  // the law of total variance, and total = data + knowledge in nats
    EXPECT_NEAR(row[1], row[2] + row[3], 1e-6 * row[1]);
    EXPECT_NEAR(row[4], row[5] + row[6], 1e-6);
  }
  // On held-out inputs like the training data the members agree: the
  // student's knowledge variance is near the ensemble's (through softplus,
  // kappa never grew large in 60 epochs: 50x the ensemble's here).
  r = run_endd({"predict", "--model", dir + "/ens", "--data", dir + "/test.csv", "--out", dir + "/p_ens.csv"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::vector<std::string> ens_header;
  auto ens_rows = read_csv_numbers(dir + "/p_ens.csv", ens_header);
  ASSERT_EQ(ens_rows.size(), rows.size());
  auto median_knowledge = [](const std::vector<std::vector<double>>& table) {
    std::vector<double> k;
    for (const auto& row : table) k.push_back(row[3]);
    std::nth_element(k.begin(), k.begin() + k.size() / 2, k.end());
    return k[k.size() / 2];
  };
  const double knowledge_ratio = median_knowledge(rows) / median_knowledge(ens_rows);
  EXPECT_GT(knowledge_ratio, 0.2);
  EXPECT_LT(knowledge_ratio, 5.0);

  // A student written before run.json named its link (softplus) and before
  // distill.normal_gamma_fit (fitted by likelihood) reads as it was trained:
  // kappa = softplus(z1) where this run's is exp(z1), so kappa_old =
  // log1p(kappa_new - floor) + floor on every row (kappa = data / knowledge variance).
  const std::string old_run = dir + "/end2_before";
  std::filesystem::copy(dir + "/end2", old_run, std::filesystem::copy_options::recursive);
  auto old_info = nlohmann::json::parse(read_text(old_run + "/run.json"));
  ASSERT_EQ(old_info["normal_gamma_link"], "exp");
  old_info.erase("normal_gamma_link");
  write_text(old_run + "/run.json", old_info.dump(2));
  std::string old_config, line;
  std::istringstream config_lines(read_text(old_run + "/config.toml"));
  while (std::getline(config_lines, line))
    if (line.find("normal_gamma_fit") == std::string::npos) old_config += line + "\n";
  ASSERT_NE(old_config, read_text(old_run + "/config.toml"));
  write_text(old_run + "/config.toml", old_config);
  r = run_endd({"predict", "--model", old_run, "--data", dir + "/test.csv", "--out", dir + "/p_before.csv"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::vector<std::string> before_header;
  auto before = read_csv_numbers(dir + "/p_before.csv", before_header);
  ASSERT_EQ(before.size(), rows.size());
  for (size_t i = 0; i < rows.size(); ++i) {
    const double kappa_new = rows[i][2] / rows[i][3], kappa_old = before[i][2] / before[i][3];
    EXPECT_NEAR(kappa_old, std::log1p(kappa_new - 1e-4) + 1e-4, 1e-4 * kappa_old) << i;
    EXPECT_DOUBLE_EQ(before[i][0], rows[i][0]) << i;  // the mean is the raw output either way
  }
  r = run_endd({"distill", "--resume", old_run, "--epochs", "70", "--set", "distill.normal_gamma_fit=moments"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("distill.normal_gamma_fit would change from \"likelihood\" to \"moments\""), std::string::npos)
      << r.err;

  r = run_endd({"export", "--model", dir + "/end2", "--out", dir + "/end2.pt"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  if (std::system("/usr/bin/python3 -c 'import torch, numpy' >/dev/null 2>&1") != 0)
    GTEST_SKIP() << "Debian's python3-torch is not installed: the export was not compared in Python";
  // The exported module in Python against `endd predict`, every column.
  const std::string script = dir + "/compare.py";
  write_text(script,
             "import sys, numpy as np, torch\n"
             "x = np.loadtxt(sys.argv[1], delimiter=',', skiprows=1)[:, [1, 3]]\n"
             "out = torch.jit.load(sys.argv[2])(torch.tensor(x, dtype=torch.float32))\n"
             "p = np.genfromtxt(sys.argv[3], delimiter=',', names=True)\n"
             "worst = max(float(np.max(np.abs(out[k].numpy() - p[k]) / np.maximum(1.0, np.abs(p[k])))) for k in "
             "p.dtype.names)\n"
             "assert all(k in out for k in ('m', 'kappa', 'alpha', 'beta')), sorted(out)\n"
             "open(sys.argv[4], 'w').write(repr(worst))\n");
  const std::string cmd = "/usr/bin/python3 " + script + " " + dir + "/test.csv " + dir + "/end2.pt " + dir +
                          "/p.csv " + dir + "/worst.txt";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  EXPECT_LT(std::stod(read_text(dir + "/worst.txt")), 1e-5);
}

// Members trained anywhere: their means and variances [N, M, 2] in a CSV
// (m1_mean, m1_var, ...). Three hand-made members disagree more as |x1|
// grows: mean_m = 2 x1 - x2 + 0.3 m x1, var_m = 0.3 + 0.1 m, so the
// ensemble's knowledge variance is 0.09 x1^2 Var(m) = 0.06 x1^2.
TEST(RegressionWorkflowTest, MembersFromAnywhereDistilIntoAPriorNetwork) {
  const std::string dir = fresh_dir("regression_outputs");
  write_table(dir + "/train.csv", 400, 7);
  write_table(dir + "/test.csv", 200, 8);
  std::vector<std::string> header;
  auto rows = read_csv_numbers(dir + "/train.csv", header);  // index, x1, price, x2
  std::ostringstream csv;
  csv << "m1_mean,m1_var,m2_mean,m2_var,m3_mean,m3_var\n";
  for (const auto& r : rows) {
    for (int m = 0; m < 3; ++m)
      csv << (m ? "," : "") << 2 * r[1] - r[3] + 0.3 * m * r[1] << "," << 0.3 + 0.1 * m;
    csv << "\n";
  }
  write_text(dir + "/members.csv", csv.str());
  auto r = run_endd({"distill", "--teacher-outputs", dir + "/members.csv", "--teacher-kind", "gaussian", "--members",
                     "3", "--data", dir + "/train.csv", "--label-column", "price", "--method", "end2", "--epochs",
                     "80", "--out", dir + "/st"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto info = nlohmann::json::parse(read_text(dir + "/st/run.json"));
  EXPECT_EQ(info["task"], "regression");
  EXPECT_EQ(info["method"], "end2");
  EXPECT_TRUE(nlohmann::json::parse(read_text(dir + "/st/metrics.json")).contains("train"));
  r = run_endd({"predict", "--model", dir + "/st", "--data", dir + "/test.csv", "--out", dir + "/p.csv"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::vector<std::string> test_header, pred_header;
  auto test = read_csv_numbers(dir + "/test.csv", test_header);
  auto pred = read_csv_numbers(dir + "/p.csv", pred_header);
  ASSERT_EQ(test.size(), pred.size());
  // The student's mean follows the members' mean (1 + 0.3 x1 ... averaged: 2.3 x1 - x2), and its
  // knowledge variance ranks the inputs as 0.06 x1^2 does.
  double worst = 0;
  std::vector<double> mine, theirs;
  for (size_t i = 0; i < test.size(); ++i) {
    worst = std::max(worst, std::abs(pred[i][0] - (2.3 * test[i][1] - test[i][3])));
    mine.push_back(pred[i][3]);
    theirs.push_back(0.06 * test[i][1] * test[i][1]);
  }
  EXPECT_LT(worst, 0.5);
  at::Tensor a = at::tensor(mine, at::kDouble).argsort().argsort().to(at::kDouble);
  at::Tensor b = at::tensor(theirs, at::kDouble).argsort().argsort().to(at::kDouble);
  const double spearman = at::corrcoef(at::stack({a, b})).index({0, 1}).item<double>();
  EXPECT_GT(spearman, 0.8);
  // Outputs for another number of inputs are refused before any work.
  write_table(dir + "/short.csv", 100, 9);
  EXPECT_TRUE(refused({"distill", "--teacher-outputs", dir + "/members.csv", "--teacher-kind", "gaussian",
                       "--members", "3", "--data", dir + "/short.csv", "--label-column", "price", "--out", dir + "/x"},
                      "outputs for 400 inputs, but", dir + "/x"));
}

TEST(RegressionWorkflowTest, KilledRunsResumeToTheUninterruptedWeights) {
  const std::string dir = fresh_dir("regression_resume");
  write_table(dir + "/big.csv", 2000, 4);
  auto with_out = [](std::vector<std::string> a, const std::string& out) {
    a.insert(a.end(), {"--out", out});
    return a;
  };
  const std::vector<std::string> train{"train", "--task", "regression", "--data", dir + "/big.csv", "--target-column",
                                       "price", "--members", "4", "--epochs", "12", "--set", "model.width=128"};
  ASSERT_EQ(run_endd(with_out(train, dir + "/full")).exit_code, 0);
  ASSERT_TRUE(run_and_kill(with_out(train, dir + "/cut"), dir + "/cut", 4)) << "run finished before the kill";
  ASSERT_EQ(run_endd({"train", "--resume", dir + "/cut"}).exit_code, 0);
  auto a = weights_of(dir + "/full"), b = weights_of(dir + "/cut");
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) EXPECT_TRUE(at::equal(a[i], b[i])) << "tensor " << i;
  const std::vector<std::string> distill{"distill", "--teacher", dir + "/full", "--method", "end2", "--aux",
                                         "generated", "--epochs", "12", "--set", "model.width=128"};
  ASSERT_EQ(run_endd(with_out(distill, dir + "/s_full")).exit_code, 0);
  ASSERT_TRUE(run_and_kill(with_out(distill, dir + "/s_cut"), dir + "/s_cut", 4)) << "run finished before the kill";
  ASSERT_EQ(run_endd({"distill", "--resume", dir + "/s_cut"}).exit_code, 0);
  a = weights_of(dir + "/s_full");
  b = weights_of(dir + "/s_cut");
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) EXPECT_TRUE(at::equal(a[i], b[i])) << "student tensor " << i;
  // A finished run extends with more epochs.
  ASSERT_EQ(run_endd({"distill", "--resume", dir + "/s_full", "--epochs", "14"}).exit_code, 0);
  auto info = nlohmann::json::parse(read_text(dir + "/s_full/run.json"));
  EXPECT_EQ(info["epochs_done"], 14);
  EXPECT_TRUE(info["finished"].get<bool>());
}

TEST(RegressionWorkflowTest, BadRequestsAreRefusedAndLeaveNothing) {
  const std::string dir = fresh_dir("regression_refusals");
  write_text(dir + "/bad.csv", "x,y\n1,2\n2,3\n3,oops\n4,5\n");
  EXPECT_TRUE(refused({"train", "--task", "regression", "--data", dir + "/bad.csv", "--out", dir + "/r1"},
                      dir + "/bad.csv:4: 'y': target 'oops' is not a finite number", dir + "/r1"));
  write_text(dir + "/constant_last.csv", "x,y,c\n1,2,7\n2,3,7\n3,5,7\n");
  EXPECT_TRUE(refused({"train", "--task", "regression", "--data", dir + "/constant_last.csv", "--out", dir + "/r0"},
                      "every target in 'c' is 7; a constant has nothing to learn", dir + "/r0"));
  EXPECT_TRUE(refused({"train", "--task", "regression", "--data", dir + "/constant_last.csv", "--target-column",
                       "price", "--out", dir + "/r0"},
                      "no column named 'price' for the target", dir + "/r0"));
  write_table(dir + "/train.csv", 60, 5);
  EXPECT_TRUE(refused({"train", "--task", "regression", "--arch", "cnn", "--data", dir + "/train.csv",
                       "--target-column", "price", "--out", dir + "/r2"},
                      "--arch cnn takes images [C, H, W]", dir + "/r2"));
  ASSERT_EQ(run_endd({"train", "--task", "regression", "--data", dir + "/train.csv", "--target-column", "price",
                      "--members", "2", "--epochs", "2", "--out", dir + "/ens"})
                .exit_code,
            0);
  EXPECT_TRUE(refused({"distill", "--teacher", dir + "/ens", "--method", "end2-proxy", "--out", dir + "/r3"},
                      "end2-proxy is for classification", dir + "/r3"));
  EXPECT_TRUE(refused({"distill", "--teacher", dir + "/ens", "--set", "distill.normal_gamma_fit=moment", "--out",
                       dir + "/r5"},
                      "distill.normal_gamma_fit: expected likelihood or moments", dir + "/r5"));
  // A Normal-Gamma fit asked of a classification teacher is refused, not ignored.
  std::string labelled = "a,b,label\n";
  for (int i = 0; i < 20; ++i) labelled += std::to_string(i) + "," + std::to_string(i % 3) + "," + (i % 2 ? "yes\n" : "no\n");
  write_text(dir + "/classes.csv", labelled);
  ASSERT_EQ(run_endd({"train", "--data", dir + "/classes.csv", "--members", "2", "--epochs", "1", "--out",
                      dir + "/classifier"})
                .exit_code,
            0);
  EXPECT_TRUE(refused({"distill", "--teacher", dir + "/classifier", "--set", "distill.normal_gamma_fit=likelihood",
                       "--out", dir + "/r6"},
                      "a Normal-Gamma fit is for a regression teacher", dir + "/r6"));
  EXPECT_TRUE(refused({"predict", "--model", dir + "/ens", "--data", dir + "/train.csv", "--member-probs", "--out",
                       dir + "/p.csv"},
                      "is a regression run", dir + "/p.csv"));
  write_table(dir + "/features_only.csv", 10, 6, /*with_target=*/false);
  EXPECT_TRUE(refused({"evaluate", "--model", dir + "/ens", "--data", dir + "/features_only.csv", "--out",
                       dir + "/r4"},
                      "no label column", dir + "/r4"));
}
