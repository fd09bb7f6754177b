// Regression data: numeric targets from a user's CSV or npy files (any
// column, CRLF, a pandas index) with errors that name the line, and the real
// tables of the regression-tabular experiment read from the Debian packages.
#include <gtest/gtest.h>

#include <ATen/ATen.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <vector>

#include "../error_of.h"
#include "endd/data/regression_datasets.h"
#include "endd/data/source.h"

using namespace endd::data;
using endd::testing::error_of;

namespace {

// The files and directories this process wrote, removed when it ends.
struct RegressionScratch {
  std::vector<std::filesystem::path> paths;
  ~RegressionScratch() {
    std::error_code ec;
    for (const auto& p : paths) std::filesystem::remove_all(p, ec);
  }
};

RegressionScratch& scratch() {
  static RegressionScratch s;
  return s;
}

std::string temp_file(const std::string& name, const std::string& text) {
  auto path = std::filesystem::temp_directory_path() / ("endd_regdata_" + std::to_string(::getpid()) + "_" + name);
  std::ofstream(path, std::ios::binary) << text;
  scratch().paths.push_back(path);
  return path.string();
}

SourceRequest targets_in(const std::string& column) {
  SourceRequest r;
  r.numeric_targets = true;
  r.label_column = column;
  return r;
}

}  // namespace

TEST(RegressionTargetsTest, TargetColumnByNameWithCrlfAndPandasIndex) {
  const std::string path = temp_file("a.csv", ",x1,price,x2\r\n0,1,2.5,3\r\n1,4,-1e3,6\r\n2,7,0,9\r\n");
  Dataset d = load_source("csv:" + path, targets_in("price"));
  ASSERT_TRUE(d.targets.defined());
  EXPECT_TRUE(at::equal(d.targets, at::tensor({2.5, -1000.0, 0.0}, at::kDouble)));
  EXPECT_TRUE(at::equal(d.inputs, at::tensor({1.f, 3.f, 4.f, 6.f, 7.f, 9.f}).view({3, 2})));
  EXPECT_FALSE(d.labels.defined());
  EXPECT_EQ(d.feature_names, (std::vector<std::string>{"x1", "x2"}));
  EXPECT_EQ(d.label_name, "price");
}

TEST(RegressionTargetsTest, BadTargetsNameTheirLine) {
  const std::string text = temp_file("b.csv", "x,y\n1,2\n3,abc\n");
  EXPECT_NE(error_of([&] { load_source(text, targets_in("")); }).find(text + ":3: 'y': target 'abc' is not a finite number"),
            std::string::npos);
  const std::string nan = temp_file("c.csv", "x,y\n1,2\n3,nan\n");
  EXPECT_NE(error_of([&] { load_source(nan, targets_in("")); }).find(nan + ":3"), std::string::npos);
  const std::string missing = temp_file("d.csv", "x,y\n1,2\n3,\n");
  EXPECT_NE(error_of([&] { load_source(missing, targets_in("")); }).find("the target is missing"), std::string::npos);
}

TEST(RegressionDatasetsTest, DebianTablesHaveTheirKnownShapes) {
  struct Expected {
    const char* name;
    int64_t rows, features;
    double first_target;
  };
  for (const Expected& e : {Expected{"diabetes", 442, 10, 151.0}, Expected{"boston", 506, 13, 24.0},
                            Expected{"auto-mpg", 392, 9, 18.0}}) {
    Dataset d = load_regression_dataset(e.name);
    EXPECT_EQ(d.inputs.sizes(), (std::vector<int64_t>{e.rows, e.features})) << e.name;
    EXPECT_EQ(d.targets.size(0), e.rows) << e.name;
    EXPECT_DOUBLE_EQ(d.targets[0].item<double>(), e.first_target) << e.name;
    EXPECT_TRUE(d.inputs.isfinite().all().item<bool>()) << e.name;
    EXPECT_EQ(static_cast<int64_t>(d.feature_names.size()), e.features) << e.name;
  }
  // Auto MPG's origin is one-hot: exactly one of the last three columns is 1.
  Dataset cars = load_regression_dataset("auto-mpg");
  EXPECT_TRUE(at::equal(cars.inputs.slice(1, 6).sum(1), at::ones({392})));
}

TEST(RegressionDatasetsTest, MissingFilesAndUnknownNamesAreNamed) {
  EXPECT_NE(error_of([] { load_regression_dataset("housing"); }).find("unknown; expected diabetes, boston or auto-mpg"),
            std::string::npos);
  const auto empty = std::filesystem::temp_directory_path() / ("endd_regdata_empty_" + std::to_string(::getpid()));
  std::filesystem::create_directories(empty);
  scratch().paths.push_back(empty);
  ::setenv("ENDD_SKLEARN_DATA_DIR", empty.c_str(), 1);
  const std::string message = error_of([] { load_regression_dataset("diabetes"); });
  ::unsetenv("ENDD_SKLEARN_DATA_DIR");
  EXPECT_NE(message.find(empty.string() + "/diabetes_data_raw.csv.gz"), std::string::npos) << message;
}
