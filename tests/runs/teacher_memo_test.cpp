// The process's memo of teacher logits (distill/teacher_memo.h): a second
// student of the same teacher on the same inputs takes the first one's
// labels, which equal a fresh labelling bit for bit; another teacher or
// other inputs label afresh.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <random>

#include "endd/data/tensor_file.h"
#include "endd/distill/teacher_memo.h"
#include "endd/runs/run_config.h"
#include "endd/runs/workflow.h"

namespace fs = std::filesystem;
using endd::distill::TeacherLogitsMemo;

namespace {

TEST(TeacherLogitsMemoTest, KeepsCopiesAndFindsByKey) {
  TeacherLogitsMemo memo;  // a memo of its own is on
  at::Tensor logits = at::randn({4, 3, 2});
  memo.keep("a", logits);
  logits.zero_();  // the memo holds its own copy
  at::Tensor found = memo.find("a");
  ASSERT_TRUE(found.defined());
  EXPECT_GT(found.abs().sum().item<double>(), 0);
  found.zero_();  // and hands out copies
  EXPECT_GT(memo.find("a").abs().sum().item<double>(), 0);
  EXPECT_FALSE(memo.find("b").defined());
  EXPECT_EQ(memo.hits(), 2u);
}

TEST(TeacherLogitsMemoTest, FingerprintsFollowContentShapeAndType) {
  at::Tensor x = at::arange(12, at::kFloat).view({3, 4});
  EXPECT_EQ(endd::distill::tensor_fingerprint(x), endd::distill::tensor_fingerprint(x.clone()));
  EXPECT_EQ(endd::distill::tensor_fingerprint(x.t()), endd::distill::tensor_fingerprint(x.t().contiguous()));
  at::Tensor y = x.clone();
  y[2][3] = 11.5f;
  EXPECT_NE(endd::distill::tensor_fingerprint(x), endd::distill::tensor_fingerprint(y));
  EXPECT_NE(endd::distill::tensor_fingerprint(x), endd::distill::tensor_fingerprint(x.view({4, 3})));
  EXPECT_NE(endd::distill::tensor_fingerprint(x), endd::distill::tensor_fingerprint(x.to(at::kDouble)));
  EXPECT_EQ(endd::distill::file_fingerprint("/nonexistent/weights.pt"), "");
}

std::string scratch_dir() {
  const fs::path dir = fs::temp_directory_path() / ("endd_memo_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir.string();
}

// Three classes of points in the plane, 90 rows.
void write_table(const std::string& path) {
  std::ofstream out(path);
  out << "x,y,label\n";
  std::mt19937 gen(7);
  std::normal_distribution<double> noise(0, 0.4);
  for (int i = 0; i < 90; ++i) out << (i % 3) + noise(gen) << "," << (i % 3 == 1) + noise(gen) << "," << i % 3 << "\n";
}

void train(const std::string& table, const std::string& out, int64_t seed) {
  endd::config::Config cfg = endd::runs::train_config();
  cfg.set("data.train=csv:" + table);
  cfg.set("train.members=3");
  cfg.set("train.epochs=2");
  cfg.set("seed=" + std::to_string(seed));
  endd::runs::train_run(cfg, out, at::kCPU, true);
}

void distill(const std::string& teacher, const std::string& out, const std::string& method) {
  endd::config::Config cfg = endd::runs::distill_config();
  cfg.set("distill.method=" + method);
  cfg.set("distill.epochs=1");
  endd::runs::distill_run(cfg, teacher, out, at::kCPU, true);
}

at::Tensor cache_of(const std::string& run) { return endd::data::load_tensor_file(run + "/teacher_cache.pt"); }

TEST(TeacherLogitsMemoTest, AStudentAfterAnotherOfTheSameTeacherTakesItsLabels) {
  const std::string dir = scratch_dir();
  write_table(dir + "/table.csv");
  train(dir + "/table.csv", dir + "/ensemble", 0);
  auto& memo = TeacherLogitsMemo::process();
  distill(dir + "/ensemble", dir + "/end_alone", "end");  // off: nothing kept
  TeacherLogitsMemo::Enabled on;
  distill(dir + "/ensemble", dir + "/end", "end");
  EXPECT_EQ(memo.hits(), 0u);
  distill(dir + "/ensemble", dir + "/end2", "end2");
  EXPECT_EQ(memo.hits(), 1u);
  EXPECT_TRUE(at::equal(cache_of(dir + "/end"), cache_of(dir + "/end2")));
  // Labelled afresh, the same numbers.
  memo.clear();
  distill(dir + "/ensemble", dir + "/end2_fresh", "end2");
  EXPECT_EQ(memo.hits(), 0u);
  EXPECT_TRUE(at::equal(cache_of(dir + "/end2"), cache_of(dir + "/end2_fresh")));
  // Another teacher of the same data is labelled on its own.
  train(dir + "/table.csv", dir + "/other", 1);
  distill(dir + "/other", dir + "/other_end", "end");
  EXPECT_EQ(memo.hits(), 0u);
  EXPECT_FALSE(at::equal(cache_of(dir + "/other_end"), cache_of(dir + "/end")));
  EXPECT_TRUE(at::equal(cache_of(dir + "/end_alone"), cache_of(dir + "/end")));
  fs::remove_all(dir);
}

}  // namespace
