// Ordinary users' files and mistakes (issue 16), each finding a test of the
// class it stands for: constant features, labels in any column and with any
// values, resume that extends, config precedence, nothing left behind,
// outputs never over inputs, command-line errors.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <filesystem>
#include <random>
#include <sstream>

#include "cli_test_util.h"
#include "endd/core/atomic_file.h"
#include "endd/data/delimited_table.h"
#include "endd/runs/run_directory.h"

#include <ATen/ATen.h>
#include <torch/serialize/input-archive.h>

using namespace endd::testing;
namespace fs = std::filesystem;

namespace {

struct Row {
  std::vector<double> x;
  int y;
};

// Three Gaussian blobs in the first two features, noise in the third, and a
// fourth feature that is 0 everywhere (`constant`), or 1 (test rows).
std::vector<Row> blobs(int n, uint64_t seed, double constant = 0) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> z(0, 1);
  const double centers[3][2] = {{0, 0}, {3, 0}, {0, 3}};
  std::vector<Row> rows;
  for (int i = 0; i < n; ++i) {
    int y = static_cast<int>(rng() % 3);
    rows.push_back({{centers[y][0] + z(rng), centers[y][1] + z(rng), z(rng), constant}, y});
  }
  return rows;
}

// Writes rows as CSV: `label(y)` gives the label text, `label_first` puts it
// first; an optional header and pandas-style index column.
std::string csv(const std::vector<Row>& rows, const std::function<std::string(int)>& label, bool label_first = false,
                bool header = false, bool pandas_index = false, const std::string& eol = "\n") {
  std::ostringstream out;
  out.precision(17);
  if (header) {
    if (pandas_index) out << ",";
    if (label_first) out << "kind,";
    out << "a,b,c,d" << (label_first ? "" : ",kind") << eol;
  }
  for (size_t i = 0; i < rows.size(); ++i) {
    if (pandas_index) out << i << ",";
    if (label_first) out << label(rows[i].y) << ",";
    for (size_t j = 0; j < rows[i].x.size(); ++j) out << (j ? "," : "") << rows[i].x[j];
    if (!label_first) out << "," << label(rows[i].y);
    out << eol;
  }
  return out.str();
}

std::string plain(int y) { return std::to_string(y); }

// predict's output: column name -> values as text.
std::map<std::string, std::vector<std::string>> read_predictions(const std::string& path) {
  std::map<std::string, std::vector<std::string>> out;
  std::istringstream in(read_text(path));
  std::string line;
  std::getline(in, line);
  std::vector<std::string> names;
  std::stringstream h(line);
  for (std::string f; std::getline(h, f, ',');) names.push_back(f);
  while (std::getline(in, line)) {
    std::stringstream r(line);
    size_t j = 0;
    for (std::string f; std::getline(r, f, ','); ++j) out[names.at(j)].push_back(f);
  }
  return out;
}

bool empty_or_absent(const std::string& dir) {
  return !fs::exists(dir) || (fs::is_directory(dir) && fs::is_empty(dir));
}

class UserDataTest : public ::testing::Test {
 protected:
  void SetUp() override { dir = fresh_dir(::testing::UnitTest::GetInstance()->current_test_info()->name()); }
  std::string path(const std::string& name) const { return dir + "/" + name; }
  std::string dir;
};

}  // namespace

// Finding 1: a feature constant in training, nonzero later, stays harmless in
// every model, and the exported module's standardiser is the same.
TEST_F(UserDataTest, ConstantTrainingFeatureStaysFiniteEverywhere) {
  write_text(path("train.csv"), csv(blobs(300, 1), plain));
  write_text(path("shifted.csv"), csv(blobs(100, 2, 1.0), plain));
  auto r = run_endd({"train", "--data", path("train.csv"), "--members", "3", "--epochs", "8", "--out", path("ens")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = run_endd({"distill", "--teacher", path("ens"), "--aux", "generated", "--epochs", "6", "--out", path("stu")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  // AUX inputs from a file whose constant column is nonzero.
  r = run_endd({"distill", "--teacher", path("ens"), "--aux", path("shifted.csv"), "--epochs", "6", "--out", path("stu_file")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  for (const auto* run : {"ens", "stu", "stu_file"}) {
    r = run_endd({"predict", "--model", path(run), "--data", path("shifted.csv"), "--out", path(std::string(run) + ".csv")});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    auto p = read_predictions(path(std::string(run) + ".csv"));
    for (const auto& v : p.at("epkl")) {
      double e = std::stod(v);
      EXPECT_TRUE(std::isfinite(e) && e < 10) << run << ": EPKL " << e;
    }
    r = run_endd({"evaluate", "--model", path(run), "--data", path("shifted.csv"), "--out", path(std::string(run) + "_eval")});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    // Finite and better than the uniform guess (ln 3 = 1.10), for these short runs.
    const double nll = read_json(path(std::string(run) + "_eval/results.json"))["models"].begin().value()["nll"];
    EXPECT_TRUE(std::isfinite(nll) && nll < 1.09) << run << ": NLL " << nll;
  }
  // The saved scale of the constant feature is 1, not a tiny spread.
  ASSERT_EQ(run_endd({"export", "--model", path("stu"), "--out", path("stu.pt")}).exit_code, 0);
  if (!python_has_torch()) GTEST_SKIP() << "no python3-torch";
  std::string script = "import torch,csv\n"
                       "m=torch.jit.load('" + path("stu.pt") + "')\n"
                       "rows=list(csv.reader(open('" + path("shifted.csv") + "')))\n"
                       "x=torch.tensor([[float(v) for v in r[:4]] for r in rows])\n"
                       "out=m(x)\n"
                       "pred=list(csv.DictReader(open('" + path("stu.csv") + "')))\n"
                       "d=max(abs(out['epkl'][i].item()-float(p['epkl'])) for i,p in enumerate(pred))\n"
                       "assert float(m.std[3])==1.0, m.std\n"
                       "assert d<1e-4, d\n";
  write_text(path("check.py"), script);
  EXPECT_EQ(std::system(("/usr/bin/python3 " + path("check.py")).c_str()), 0);
}

// The same class of input in an image source: IDX images whose border pixels
// are 0 in every training image.
TEST_F(UserDataTest, ConstantPixelsInImageSourcesStayFinite) {
  auto write_idx = [&](const std::string& name, int n, bool lit_border, uint64_t seed) {
    std::mt19937_64 rng(seed);
    std::string images{0, 0, 8, 3, 0, 0, 0, static_cast<char>(n), 0, 0, 0, 6, 0, 0, 0, 6};
    std::string labels{0, 0, 8, 1, 0, 0, 0, static_cast<char>(n)};
    for (int i = 0; i < n; ++i) {
      int y = static_cast<int>(rng() % 2);
      for (int r = 0; r < 6; ++r)
        for (int c = 0; c < 6; ++c) {
          bool border = r == 0 || c == 0 || r == 5 || c == 5;
          int v = border ? (lit_border ? 255 : 0) : static_cast<int>((y ? c : r) * 40 + rng() % 30);
          images += static_cast<char>(static_cast<unsigned char>(v));
        }
      labels += static_cast<char>(y);
    }
    write_text(path(name + "-images"), images);
    write_text(path(name + "-labels"), labels);
    return "idx:" + path(name + "-images") + "," + path(name + "-labels");
  };
  const std::string train = write_idx("train", 120, false, 1), lit = write_idx("lit", 20, true, 2);
  auto r = run_endd({"train", "--data", train, "--members", "3", "--epochs", "5", "--out", path("ens")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  ASSERT_EQ(run_endd({"predict", "--model", path("ens"), "--data", lit, "--out", path("p.csv")}).exit_code, 0);
  const auto predictions = read_predictions(path("p.csv"));
  ASSERT_EQ(predictions.at("epkl").size(), 20u);
  for (const auto& v : predictions.at("epkl")) {
    double e = std::stod(v);
    EXPECT_TRUE(std::isfinite(e) && e < 10) << "EPKL " << e;
  }
}

// Finding 2: the label in any column, with any values; the user's values come back.
TEST_F(UserDataTest, LabelsInAnyColumnWithAnyValues) {
  const std::vector<std::string> names{"cat", "dog", "horse, wild"};
  auto name = [&](int y) { return "\"" + names[static_cast<size_t>(y)] + "\""; };
  write_text(path("named.csv"), csv(blobs(240, 3), name, true, true, true, "\r\n"));
  auto r = run_endd({"train", "--data", path("named.csv"), "--label-column", "kind", "--members", "2", "--epochs", "6",
                     "--out", path("named")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto info = read_json(path("named/run.json"));
  EXPECT_EQ(info["inputs"], 4);
  EXPECT_EQ(info["labels"], nlohmann::json(names));
  ASSERT_EQ(run_endd({"predict", "--model", path("named"), "--data", path("named.csv"), "--out", path("p.csv")}).exit_code, 0);
  std::string text = read_text(path("p.csv"));
  EXPECT_NE(text.find("\ncat,"), std::string::npos) << "predictions should use the user's label values";
  EXPECT_NE(text.find("\"horse, wild\""), std::string::npos);
  r = run_endd({"evaluate", "--model", path("named"), "--data", path("named.csv"), "--out", path("ev")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_LT(read_json(path("ev/results.json"))["models"]["ensemble"]["error"].get<double>(), 30.0);

  // Labels 1..3 in the first column (no header): three classes, no empty class 0.
  write_text(path("first.csv"), csv(blobs(240, 4), [](int y) { return std::to_string(y + 1); }, true));
  r = run_endd({"train", "--data", path("first.csv"), "--label-column", "0", "--members", "2", "--epochs", "6",
                "--out", path("first")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  info = read_json(path("first/run.json"));
  EXPECT_EQ(info["classes"], 3);
  EXPECT_EQ(info["labels"], nlohmann::json({"1", "2", "3"}));
  ASSERT_EQ(run_endd({"predict", "--model", path("first"), "--data", path("first.csv"), "--out", path("p1.csv")}).exit_code, 0);
  const auto predictions = read_predictions(path("p1.csv"));
  for (const auto& v : predictions.at("prediction")) EXPECT_TRUE(v == "1" || v == "2" || v == "3") << v;
  // A test label the model never saw is named with its line.
  write_text(path("other.csv"), "7,0,0,0,0\n1,0,0,0,0\n");
  r = run_endd({"evaluate", "--model", path("first"), "--data", path("other.csv"), "--out", path("ev2")});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("other.csv:1: label '7' is not one of the model's 3 classes (1, 2, 3)"), std::string::npos) << r.err;
  // predict drops a label column unread, whatever it holds.
  write_text(path("unlabelled.csv"), "whatever,0,0,0,0\n");
  r = run_endd({"predict", "--model", path("first"), "--data", path("unlabelled.csv"), "--out", path("p2.csv")});
  EXPECT_EQ(r.exit_code, 0) << r.err;
}

TEST_F(UserDataTest, AColumnThatCannotBeALabelIsRefused) {
  // The label is first, but by default the last column would be taken: a
  // continuous feature, or a constant one.
  auto rows = blobs(200, 5);
  for (auto& row : rows) row.x[3] = row.x[2] * 0.5;
  write_text(path("first.csv"), csv(rows, plain, true, true));
  write_text(path("constant_last.csv"), csv(blobs(200, 5), plain, true, true));
  for (const auto* file : {"first.csv", "constant_last.csv"}) {
    auto r = run_endd({"train", "--data", path(file), "--members", "2", "--epochs", "2", "--out", path("x")});
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_NE(r.err.find("the label column 'd'"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("--label-column"), std::string::npos) << r.err;
    EXPECT_FALSE(fs::exists(path("x")));
  }
  // A label column that is not in the header.
  auto r = run_endd({"train", "--data", path("first.csv"), "--label-column", "species", "--out", path("x")});
  EXPECT_NE(r.err.find("no column named 'species' for the label (columns: kind, a, b, c, d)"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(path("x")));
}

// Finding 3: --resume extends a run to more epochs, also a finished one, and
// refuses any other change.
TEST_F(UserDataTest, ResumeExtendsAndRefusesOtherChanges) {
  write_text(path("train.csv"), csv(blobs(200, 6), plain));
  ASSERT_EQ(run_endd({"train", "--data", path("train.csv"), "--members", "2", "--epochs", "3", "--out", path("ens")}).exit_code, 0);
  auto r = run_endd({"train", "--resume", path("ens"), "--epochs", "5"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto info = read_json(path("ens/run.json"));
  EXPECT_EQ(info["epochs_done"], 5);
  EXPECT_TRUE(info["finished"].get<bool>());
  EXPECT_NE(read_text(path("ens/config.toml")).find("epochs = 5"), std::string::npos);
  r = run_endd({"train", "--resume", path("ens"), "--members", "4"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("train.members would change from 2 to 4"), std::string::npos) << r.err;
  r = run_endd({"train", "--resume", path("ens"), "--epochs", "4"});
  EXPECT_EQ(r.exit_code, 2);
  r = run_endd({"train", "--resume", path("ens"), "--seed", "3", "--epochs", "9"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("seed would change from 0 to 3"), std::string::npos) << r.err;
  EXPECT_EQ(read_json(path("ens/run.json"))["epochs_done"], 5) << "a refused resume must not touch the run";

  ASSERT_EQ(run_endd({"distill", "--teacher", path("ens"), "--epochs", "2", "--out", path("stu")}).exit_code, 0);
  r = run_endd({"distill", "--resume", path("stu"), "--epochs", "4"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(read_json(path("stu/run.json"))["epochs_done"], 4);
  r = run_endd({"distill", "--resume", path("stu"), "--method", "end", "--epochs", "6"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("distill.method would change"), std::string::npos) << r.err;
}

// Finding 4: defaults < config file < typed flags < --set.
TEST_F(UserDataTest, ConfigSeedIsUsedUnlessAFlagOrSetOverridesIt) {
  write_text(path("train.csv"), csv(blobs(150, 7), plain));
  write_text(path("run.toml"), "seed = 7\n[train]\nmembers = 2\nepochs = 1\n");
  auto seed_of = [&](const std::string& run) {
    std::string t = read_text(path(run + "/config.toml"));
    size_t at = t.find("seed = ") + 7;
    return t.substr(at, t.find_first_of(" \n", at) - at);
  };
  const std::vector<std::string> base{"train", "--data", path("train.csv"), "--config", path("run.toml")};
  auto with = [&](std::vector<std::string> extra, const std::string& out) {
    auto args = base;
    args.insert(args.end(), extra.begin(), extra.end());
    args.insert(args.end(), {"--out", path(out)});
    return run_endd(args).exit_code;
  };
  ASSERT_EQ(with({}, "file"), 0);
  EXPECT_EQ(seed_of("file"), "7");
  ASSERT_EQ(with({"--seed", "3"}, "flag"), 0);
  EXPECT_EQ(seed_of("flag"), "3");
  ASSERT_EQ(with({"--seed", "3", "--set", "seed=5"}, "set"), 0);
  EXPECT_EQ(seed_of("set"), "5");
  EXPECT_NE(read_text(path("file/config.toml")), read_text(path("flag/config.toml")));
}

// endd evaluate reads flags, a TOML file and --set with train's precedence,
// saves the resolved file beside its results, and that file evaluates again.
TEST_F(UserDataTest, EvaluateReadsAConfigFileAndSavesTheResolvedOne) {
  write_text(path("train.csv"), csv(blobs(150, 7), plain));
  write_text(path("far.csv"), csv(blobs(60, 8), plain));
  ASSERT_EQ(run_endd({"train", "--data", path("train.csv"), "--members", "3", "--epochs", "2", "--out", path("ens")})
                .exit_code, 0);
  auto r = run_endd({"evaluate", "--model", path("ens"), "--data", path("train.csv"), "--ood", path("far.csv") + ":far",
                     "--limit", "40", "--out", path("ev1")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto first = read_json(path("ev1/results.json"));
  EXPECT_EQ(first["config"]["data.limit"], 40);
  EXPECT_EQ(first["models"]["ensemble"]["count"], 40);
  // The saved file alone gives the same results; --set overrides it, a flag
  // overrides the file (train's precedence).
  r = run_endd({"evaluate", "--config", path("ev1/config.toml"), "--out", path("ev2")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto again = read_json(path("ev2/results.json"));
  EXPECT_EQ(again["models"], first["models"]);
  EXPECT_EQ(again["ood"], first["ood"]);
  r = run_endd({"evaluate", "--config", path("ev1/config.toml"), "--limit", "30", "--set", "report.bootstrap=20",
                "--out", path("ev3")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto changed = read_json(path("ev3/results.json"));
  EXPECT_EQ(changed["models"]["ensemble"]["count"], 30);
  EXPECT_EQ(changed["config"]["report.bootstrap"], 20);
  EXPECT_TRUE(changed["ood"]["far"]["ensemble"]["knowledge"]["auroc"].is_number());
  // Bad values name their origin; nothing is written.
  write_text(path("bad.toml"), "run = '" + path("ens") + "'\n[data]\ntest = '" + path("train.csv") + "'\nlimit = -3\n");
  EXPECT_TRUE(refused({"evaluate", "--config", path("bad.toml"), "--out", path("ev4")},
                      "bad.toml:4: data.limit: expected >= 0", path("ev4")));
  EXPECT_TRUE(refused({"evaluate", "--config", path("ev1/config.toml"), "--set", "data.ood=far.csv:x;near.csv:x",
                       "--out", path("ev4")},
                      "data.ood: the set name 'x' is given twice", path("ev4")));
  // Generated sets are made for images in [0, 1]: standardised-scale table
  // values are refused naming the set.
  EXPECT_TRUE(refused({"evaluate", "--config", path("ev1/config.toml"), "--set", "data.ood=uniform-noise",
                       "--out", path("ev4")},
                      "uniform-noise (set 'uniform-noise') is made for images", path("ev4")));
  r = run_endd({"evaluate", "--model", path("ens"), "--data", path("train.csv"), "--ood", "inverted", "--out", path("ev4")});
  EXPECT_EQ(r.exit_code, 2);  // typed on the command line
  EXPECT_NE(r.err.find("--ood: data.ood: inverted (set 'inverted') is made for images"), std::string::npos) << r.err;
  EXPECT_FALSE(exists(path("ev4")));
}

// Findings 5 and 6: a failed command leaves nothing behind; an output never
// overwrites an input.
TEST_F(UserDataTest, FailuresLeaveNothingAndOutputsNeverOverwriteInputs) {
  write_text(path("train.csv"), csv(blobs(150, 8), plain));
  write_text(path("bad.csv"), "1,2,3,0\n1,x,3,1\n");
  write_text(path("one_class.csv"), "1,2,0\n3,4,0\n");
  ASSERT_EQ(run_endd({"train", "--data", path("train.csv"), "--members", "2", "--epochs", "2", "--out", path("ens")}).exit_code, 0);
  ASSERT_EQ(run_endd({"distill", "--teacher", path("ens"), "--epochs", "1", "--out", path("stu")}).exit_code, 0);
  const std::string before = read_text(path("train.csv"));
  const std::vector<std::vector<std::string>> failing{
      {"train", "--data", path("bad.csv"), "--out", path("new/run")},
      {"train", "--data", path("one_class.csv"), "--out", path("new/run")},
      {"train", "--data", path("missing.csv"), "--out", path("new/run")},
      {"distill", "--teacher", path("stu"), "--out", path("new/run")},
      {"distill", "--teacher", path("ens"), "--aux", path("missing.csv"), "--out", path("new/run")},
      {"evaluate", "--model", path("ens"), "--data", path("train.csv"), "--ood", path("train.csv"), "--ood",
       path("train.csv"), "--out", path("new/eval")},
      {"evaluate", "--model", path("ens"), "--data", path("bad.csv"), "--out", path("new/eval")},
      {"predict", "--model", path("ens"), "--data", path("bad.csv"), "--out", path("new/p.csv")},
      {"predict", "--model", path("ens"), "--data", path("train.csv"), "--out", path("train.csv")},
      {"predict", "--model", path("stu"), "--data", path("bad.csv"), "--out", path("ens/weights.pt")},
      {"export", "--model", path("stu"), "--out", path("train.csv")},
      {"export", "--model", path("stu"), "--out", path("ens")},
      {"uncertainty", "--probs", path("train.csv"), "--members", "1", "--out", path("train.csv")},
      {"uncertainty", "--probs", path("bad.csv"), "--members", "2", "--out", path("new/u.csv")},
      {"score", "--probs", path("bad.csv"), "--members", "2", "--labels", path("train.csv"), "--out", path("new/r.json")},
      {"score", "--probs", path("one_class.csv"), "--members", "1", "--renormalize", "--labels", path("train.csv"),
       "--out", path("train.csv")},
      {"experiment", "spiral", "--quick", "--members", "0", "--out", path("new/spiral")},
  };
  for (const auto& args : failing) {
    auto r = run_endd(args);
    EXPECT_NE(r.exit_code, 0) << args[0] << " " << args[2];
    EXPECT_EQ(r.err.rfind("endd: error: ", 0), 0u) << r.err;
    EXPECT_TRUE(empty_or_absent(path("new"))) << args[0] << " " << args[2] << " left files behind";
  }
  EXPECT_EQ(read_text(path("train.csv")), before);
  auto r = run_endd({"predict", "--model", path("ens"), "--data", path("train.csv"), "--out", path("p.csv")});
  EXPECT_EQ(r.exit_code, 0) << "the run must be intact: " << r.err;

  // evaluate into a directory: a new one, then the same one again (replaced
  // whole, no old files mixed in), never one holding other files.
  const std::vector<std::string> eval{"evaluate", "--model", path("ens"), "--data", path("train.csv"), "--ood",
                                      path("train.csv") + ":same", "--out", path("eval")};
  ASSERT_EQ(run_endd(eval).exit_code, 0);
  write_text(path("eval/stale.txt"), "from before");
  ASSERT_EQ(run_endd(eval).exit_code, 0);
  EXPECT_TRUE(fs::exists(path("eval/results.json")));
  EXPECT_FALSE(fs::exists(path("eval/stale.txt")));
  fs::create_directories(path("mine"));
  write_text(path("mine/notes.txt"), "keep me");
  auto other = eval;
  other.back() = path("mine");
  r = run_endd(other);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(read_text(path("mine/notes.txt")), "keep me");
  EXPECT_FALSE(fs::exists(path("mine/results.json")));
  for (const auto& entry : fs::directory_iterator(dir))
    EXPECT_EQ(entry.path().filename().string().find(".partial"), std::string::npos) << entry.path();
}

// Finding 7: every malformed command line, in every subcommand: exit 2, the
// prefix, and words that say what was wrong.
TEST(CommandLineErrorTest, EverySubcommandGivesExitTwoAndThePrefix) {
  struct Case {
    std::vector<std::string> args;
    std::string expect;
  };
  const std::vector<Case> cases{
      {{"trian"}, "unknown command 'trian'; did you mean 'train'?"},
      {{}, "no command given"},
      {{"train", "--frobnicate"}, "unknown option or argument: --frobnicate"},
      {{"train", "--members", "0", "--out", "x"}, "--members: got '0', expected an integer >= 1"},
      {{"train", "--epochs", "ten", "--out", "x"}, "--epochs: got 'ten', expected an integer >= 1"},
      {{"train", "--data", "a.csv"}, "--out RUN is required"},
      {{"train", "--data", "a.csv", "--out", "x", "--set", "train.epoch=3"}, "unknown key 'train.epoch'"},
      {{"train", "--data", "a.csv", "--out", "x", "--set", "train.epochs=x"},
       "endd: error: --set train.epochs=x: train.epochs: expected an integer, got 'x'"},  // named once
      {{"distill", "--teacher", "x"}, "and --out RUN2 are required"},
      {{"distill", "--epochs", "-1"}, "--epochs: got '-1', expected an integer >= 1"},
      // A flag's value checked by the configuration names the flag, then its key.
      {{"train", "--data", "a.csv", "--arch", "alexnet", "--out", "x"},
       "--arch: model.arch: expected mlp, cnn, vgg, resnet or torchscript, got 'alexnet'"},
      {{"train", "--data", "a.csv", "--task", "regresion", "--out", "x"},
       "--task: regresion not in {classification,regression}"},
      {{"distill", "--teacher", "x", "--method", "end3", "--out", "y"},
       "--method: distill.method: expected end, end2 or end2-proxy, got 'end3'"},
      {{"evaluate", "--model", "x", "--out", "y"}, "--data SRC is required"},
      {{"predict", "--model", "x", "--data", "y"}, "--out is required"},
      {{"export", "--out", "x.pt"}, "--model is required"},
      {{"uncertainty", "--out", "u.csv"}, "give exactly one of --probs, --logits, --dirichlet-logits"},
      {{"uncertainty", "--members", "0", "--probs", "p.csv", "--out", "u.csv"}, "--members: got '0'"},
      {{"score", "--probs", "p.csv", "--ood-logits", "o.pt", "--labels", "l.csv", "--out", "r.json"},
       "--ood-logits goes with --logits"},
      {{"score", "--labels", "l.csv", "--out", "r.json", "--tolerance", "-1", "--probs", "p.csv"},
       "--tolerance: got '-1', expected a number >= 0"},
      {{"experiment", "spiarl"}, "unknown experiment 'spiarl'; did you mean 'spiral'?"},
      {{"--seed", "-3", "train"}, "--seed: got '-3', expected an integer >= 0"},
  };
  for (const auto& c : cases) {
    auto r = run_endd(c.args);
    std::string cmd;
    for (const auto& a : c.args) cmd += a + " ";
    EXPECT_EQ(r.exit_code, 2) << cmd << r.err;
    EXPECT_EQ(r.err.rfind("endd: error: ", 0), 0u) << cmd << r.err;
    EXPECT_NE(r.err.find(c.expect), std::string::npos) << cmd << r.err;
    EXPECT_EQ(r.err.find("1797693"), std::string::npos) << cmd << r.err;
  }
  EXPECT_EQ(run_endd({"train", "--help"}).exit_code, 0);
}

// Finding 8, smaller ones.
TEST_F(UserDataTest, SmallDataSetsAndSmallerFindings) {
  // Fewer rows than the default batch size: trained as one batch.
  write_text(path("tiny.csv"), csv(blobs(24, 9), plain));
  auto r = run_endd({"train", "--data", path("tiny.csv"), "--members", "2", "--epochs", "3", "--out", path("tiny")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = run_endd({"distill", "--teacher", path("tiny"), "--method", "end", "--epochs", "2", "--out", path("stu")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  // --member-probs names the members of an ensemble; a student has none.
  r = run_endd({"predict", "--model", path("stu"), "--data", path("tiny.csv"), "--member-probs", "--out", path("p.csv")});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--member-probs"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(path("p.csv")));
  r = run_endd({"predict", "--model", path("tiny"), "--data", path("tiny.csv"), "--member-probs", "--out", path("p.csv")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(read_text(path("p.csv")).find("-0,"), std::string::npos);
  EXPECT_NE(read_text(path("p.csv")).find("m1_p2"), std::string::npos);
}

// Finding 9: a subset of the data, a stratified validation split logged per
// epoch, and early stopping that keeps each member's best epoch.
TEST_F(UserDataTest, ValidationSplitAndEarlyStoppingKeepEachMembersBestEpoch) {
  write_text(path("train.csv"), csv(blobs(400, 10), plain));
  const std::vector<std::string> common{"train", "--data", path("train.csv"), "--members", "3", "--val-fraction", "0.25",
                                        "--set", "train.cosine_schedule=false", "--set", "train.learning_rate=0.02"};
  auto args = common;
  args.insert(args.end(), {"--epochs", "40", "--early-stopping", "3", "--out", path("es")});
  auto r = run_endd(args);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::string log = read_text(path("es/train_log.csv"));
  EXPECT_EQ(log.rfind("epoch,loss,temperature,learning_rate,seconds,val_error,val_nll\n", 0), 0u) << log;
  auto metrics = read_json(path("es/metrics.json"));
  EXPECT_EQ(metrics["validation"]["count"], 100);
  EXPECT_EQ(metrics["train"]["count"], 300);
  const int64_t done = read_json(path("es/run.json"))["epochs_done"];
  EXPECT_LT(done, 40) << "early stopping should have ended training";
  // Member m's weights are those of an identical run stopped after its best epoch.
  torch::serialize::InputArchive archive;
  archive.load_from(path("es/checkpoint.pt"));
  at::Tensor best_epoch;
  ASSERT_TRUE(archive.try_read("best_epoch", best_epoch));
  auto es = endd::runs::load_model(path("es"), c10::Device(c10::kCPU));
  for (int64_t m = 0; m < 3; ++m) {
    const int64_t e = best_epoch[m].item<int64_t>();
    ASSERT_GE(e, 0);
    ASSERT_LE(e + 3, done - 1) << "member " << m << " had not gone 3 epochs without improving";
    auto again = common;
    again.insert(again.end(), {"--epochs", std::to_string(e + 1), "--out", path("upto" + std::to_string(m))});
    ASSERT_EQ(run_endd(again).exit_code, 0);
    auto ref = endd::runs::load_model(path("upto" + std::to_string(m)), c10::Device(c10::kCPU));
    auto a = es.net->parameters(), b = ref.net->parameters();
    for (size_t i = 0; i < a.size(); ++i)
      EXPECT_TRUE(at::equal(es.net->member_part(i, a[i], m), ref.net->member_part(i, b[i], m)))
          << "member " << m << " tensor " << i;
  }
  // --limit: the first N rows, or N seeded random ones.
  r = run_endd({"train", "--data", path("train.csv"), "--limit", "60", "--limit-random", "--members", "2", "--epochs", "1",
                "--out", path("lim")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(read_json(path("lim/metrics.json"))["train"]["count"], 60);
  r = run_endd({"evaluate", "--model", path("lim"), "--data", path("train.csv"), "--limit", "25", "--out", path("ev")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(read_json(path("ev/results.json"))["models"]["ensemble"]["count"], 25);
  r = run_endd({"train", "--data", path("train.csv"), "--early-stopping", "2", "--out", path("x")});
  EXPECT_NE(r.err.find("needs a validation set"), std::string::npos) << r.err;
}

// Acceptance on real data: scikit-learn's digits (64 pixel columns, 4 of them
// always 0 in training) written to CSV by Python, as a user would.
TEST_F(UserDataTest, DigitsFromScikitLearnGiveACalibratedEnsembleWithFiniteEpkl) {
  if (std::system("/usr/bin/python3 -c 'import sklearn' >/dev/null 2>&1") != 0)
    GTEST_SKIP() << "scikit-learn (python3-sklearn) is not installed";
  const std::string script =
      "import numpy as np\n"
      "from sklearn.datasets import load_digits\n"
      "from sklearn.model_selection import train_test_split\n"
      "X, y = load_digits(return_X_y=True)\n"
      "Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.25, random_state=0, stratify=y)\n"
      "np.savetxt('" + path("train.csv") + "', np.column_stack([Xtr, ytr]), delimiter=',', fmt='%g')\n"
      "np.savetxt('" + path("test.csv") + "', np.column_stack([Xte, yte]), delimiter=',', fmt='%g')\n"
      "assert (Xtr.std(0) == 0).sum() == 4\n"
      "# Test rows with a pixel beyond every training value of it (by its training spread).\n"
      "m, s = Xtr.mean(0), Xtr.std(0, ddof=1)\n"
      "s[s == 0] = 1\n"
      "reach = np.abs((Xtr - m) / s).max(0)\n"
      "outside = (np.abs((Xte - m) / s) > reach + 1e-6).any(1)\n"
      "np.savetxt('" + path("outside.txt") + "', outside.astype(int), fmt='%d')\n";
  write_text(path("write.py"), script);
  ASSERT_EQ(std::system(("/usr/bin/python3 " + path("write.py")).c_str()), 0);
  auto r = run_endd({"train", "--data", path("train.csv"), "--out", path("ens")});  // every default
  ASSERT_EQ(r.exit_code, 0) << r.err;
  ASSERT_EQ(run_endd({"evaluate", "--model", path("ens"), "--data", path("test.csv"), "--out", path("ev")}).exit_code, 0);
  auto models = read_json(path("ev/results.json"))["models"];
  EXPECT_LT(models["ensemble"]["nll"].get<double>(), 0.15);
  EXPECT_LT(models["ensemble"]["error"].get<double>(), 5.0);
  ASSERT_EQ(run_endd({"predict", "--model", path("ens"), "--data", path("test.csv"), "--out", path("p.csv")}).exit_code, 0);
  const auto p = read_predictions(path("p.csv"));
  std::istringstream outside(read_text(path("outside.txt")));
  double largest_inside = 0, largest = 0;
  for (const auto& v : p.at("epkl")) {
    int beyond = 0;
    outside >> beyond;
    const double e = std::stod(v);
    ASSERT_TRUE(std::isfinite(e));
    largest = std::max(largest, e);
    if (!beyond) largest_inside = std::max(largest_inside, e);
  }
  // Before scale 1 for constant columns two rows had EPKL 1.6e11. Rows that
  // light a pixel beyond its training range (50-90 training standard
  // deviations out) are out of the training support, and there the members
  // may disagree strongly (EPKL 5-25 over seeds): knowledge uncertainty, as it
  // should be; every other row stays below 10.
  EXPECT_LT(largest_inside, 10.0);
  EXPECT_LT(largest, 100.0);
}

// A test file whose header orders the columns differently is read by name; one
// that lacks a feature, or a label, is refused rather than silently misread.
TEST_F(UserDataTest, ColumnsAreMatchedByHeaderName) {
  auto rows = blobs(200, 11);
  write_text(path("train.csv"), csv(rows, plain, false, true));  // a,b,c,d,kind
  ASSERT_EQ(run_endd({"train", "--data", path("train.csv"), "--members", "2", "--epochs", "3", "--out", path("ens")}).exit_code, 0);
  std::ostringstream shuffled, missing, no_label;
  shuffled.precision(17);
  missing.precision(17);
  shuffled << "kind,c,a,d,b\n";
  missing << "a,b,c,kind\n";
  for (const auto& row : rows) {
    shuffled << row.y << "," << row.x[2] << "," << row.x[0] << "," << row.x[3] << "," << row.x[1] << "\n";
    missing << row.x[0] << "," << row.x[1] << "," << row.x[2] << "," << row.y << "\n";
  }
  write_text(path("shuffled.csv"), shuffled.str());
  write_text(path("missing.csv"), missing.str());
  write_text(path("no_label.csv"), "a,b,c,d,kind\n1,2,3,4,\n");
  ASSERT_EQ(run_endd({"predict", "--model", path("ens"), "--data", path("train.csv"), "--out", path("p1.csv")}).exit_code, 0);
  auto r = run_endd({"predict", "--model", path("ens"), "--data", path("shuffled.csv"), "--out", path("p2.csv")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(read_text(path("p1.csv")), read_text(path("p2.csv")));
  r = run_endd({"evaluate", "--model", path("ens"), "--data", path("shuffled.csv"), "--out", path("ev")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = run_endd({"predict", "--model", path("ens"), "--data", path("missing.csv"), "--out", path("p3.csv")});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("missing.csv: the header's feature columns are not the model's (missing: d; not in the training data: kind)"), std::string::npos) << r.err;
  write_text(path("renamed.csv"), "a,b,c,e,kind\n1,2,3,4,0\n");
  r = run_endd({"predict", "--model", path("ens"), "--data", path("renamed.csv"), "--out", path("p3.csv")});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("missing: d; not in the training data: e"), std::string::npos) << r.err;
  r = run_endd({"evaluate", "--model", path("ens"), "--data", path("no_label.csv"), "--out", path("ev2")});
  EXPECT_NE(r.err.find("no_label.csv:2: 'kind' (column 5): the label is missing"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(path("p3.csv")) || fs::exists(path("ev2")));
}

// A run killed after writing its config but before run.json holds only endd's
// own files: a fresh start into the same --out takes it over; anything else
// there is kept and refused.
TEST_F(UserDataTest, ARunKilledBeforeItBeganStartsAgainInPlace) {
  write_text(path("train.csv"), csv(blobs(60, 12), plain));
  fs::create_directories(path("run"));
  write_text(path("run/config.toml"), "seed = 0\n");
  write_text(path("run/.run.json.tmp.123.0"), "{");
  auto r = run_endd({"train", "--data", path("train.csv"), "--members", "2", "--epochs", "1", "--out", path("run")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(read_json(path("run/run.json"))["finished"].get<bool>());
  fs::create_directories(path("mine"));
  write_text(path("mine/config.toml"), "seed = 0\n");
  write_text(path("mine/notes.txt"), "keep me");
  r = run_endd({"train", "--data", path("train.csv"), "--out", path("mine")});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(read_text(path("mine/notes.txt")), "keep me");
  EXPECT_TRUE(fs::exists(path("mine/config.toml")));
}
