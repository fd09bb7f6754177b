// The reader of users' delimited files, the mapping of label values to
// classes, and the standardiser on constant features, each against hand
// examples.
#include <gtest/gtest.h>

#include <cstdio>

#include <ATen/ATen.h>

#include "../error_of.h"
#include "endd/core/atomic_file.h"
#include "endd/data/class_labels.h"
#include "endd/data/dataset.h"
#include "endd/data/delimited_table.h"
#include "endd/data/subsets.h"
#include "endd/report/csv_writer.h"

using namespace endd::data;
using endd::testing::error_of;

namespace {
DelimitedTable parse(const std::string& text, int64_t text_column = -1) {
  return parse_delimited_table(text, "t.csv", [&](const std::vector<std::string>&, int64_t) { return text_column; });
}
}  // namespace

TEST(DelimitedTableTest, HeaderIsFoundByComparingTheFirstTwoLines) {
  auto t = parse("a,b,label\n1,2,cat\n3,4,dog\n", 2);
  EXPECT_EQ(t.header, (std::vector<std::string>{"a", "b", "label"}));
  EXPECT_EQ(t.rows, 2);
  EXPECT_EQ(t.text, (std::vector<std::string>{"cat", "dog"}));
  EXPECT_EQ(t.values[3], 3.0);
  // Text only in the label column of both lines: no header.
  auto u = parse("1,2,cat\n3,4,dog\n", 2);
  EXPECT_TRUE(u.header.empty());
  EXPECT_EQ(u.rows, 2);
  EXPECT_EQ(u.line_of_row, (std::vector<int64_t>{1, 2}));
}

TEST(DelimitedTableTest, OrdinaryFileShapes) {
  // BOM, CRLF, pandas index, quotes with a delimiter and an escaped quote, blank lines.
  auto t = parse("\xEF\xBB\xBF,x,\"y\"\r\n0,1.5,\"a, \"\"b\"\"\"\r\n\r\n1,-2,c\r\n", 1);
  EXPECT_TRUE(t.index_column_dropped);
  EXPECT_EQ(t.header, (std::vector<std::string>{"x", "y"}));
  EXPECT_EQ(t.cols, 2);
  EXPECT_EQ(t.text, (std::vector<std::string>{"a, \"b\"", "c"}));
  EXPECT_EQ(t.values[0], 1.5);
  EXPECT_EQ(t.values[2], -2.0);
  EXPECT_EQ(t.line_of_row, (std::vector<int64_t>{2, 4}));
  // pandas' boolean columns are 1 and 0.
  auto b = parse("x,flag\n1,True\n2,False\n");
  EXPECT_EQ(b.values, (std::vector<double>{1, 1, 2, 0}));
  // Semicolons and tabs.
  EXPECT_EQ(parse("1;2;3\n4;5;6\n").cols, 3);
  auto tabs = parse("p\tq\n1\t2\n");
  EXPECT_EQ(tabs.cols, 2);
  EXPECT_EQ(tabs.values[1], 2.0);
}

TEST(DelimitedTableTest, ErrorsNameFileLineAndColumn) {
  EXPECT_NE(error_of([] { parse("a,b\n1,\n"); }).find("t.csv:2: 'b' (column 2): missing value"), std::string::npos);
  EXPECT_NE(error_of([] { parse("1,2\n3,NA\n"); }).find("t.csv:2: column 2: missing value 'NA'"), std::string::npos);
  EXPECT_NE(error_of([] { parse("1,2\n3,x\n"); }).find("t.csv:2: column 2: expected a number, got 'x'"), std::string::npos);
  EXPECT_NE(error_of([] { parse("1,2\n3\n"); }).find("t.csv:2: expected 2 fields"), std::string::npos);
  EXPECT_NE(error_of([] { parse("1,\"2\n"); }).find("no closing quote"), std::string::npos);
  EXPECT_NE(error_of([] { parse("a,b\n"); }).find("no data rows"), std::string::npos);
  EXPECT_NE(error_of([] { parse(""); }).find("the file is empty"), std::string::npos);
  EXPECT_NE(error_of([] { parse("1,inf\n"); }).find("is not finite"), std::string::npos);
  EXPECT_NE(error_of([] { parse(std::string("\x93NUMPY\x01\x00", 8)); }).find("is a numpy .npy file"), std::string::npos);
  EXPECT_NE(error_of([] { parse(std::string("1,2\n\x00\x01", 6)); }).find("holds binary data"), std::string::npos);
  std::string junk = error_of([] { parse("a\x01\x02,1\nb\x03,2\n"); });
  EXPECT_EQ(junk.find('\x03'), std::string::npos) << junk;
}

TEST(ClassLabelsTest, ValuesMapToSortedClasses) {
  auto e = encode_labels({"3", "1", "2.0", " 1", "3"});
  EXPECT_EQ(e.classes, (std::vector<std::string>{"1", "2", "3"}));
  EXPECT_TRUE(at::equal(e.codes, at::tensor({2, 0, 1, 0, 2}, at::kLong)));
  auto n = encode_labels({"10", "9", "-1"});  // numeric, not text, order
  EXPECT_EQ(n.classes, (std::vector<std::string>{"-1", "9", "10"}));
  auto s = encode_labels({"dog", "cat", "dog"});
  EXPECT_EQ(s.classes, (std::vector<std::string>{"cat", "dog"}));
  EXPECT_TRUE(at::equal(recode_labels(s.codes, s.classes, {"ant", "cat", "dog"}, "x"), at::tensor({2, 1, 2}, at::kLong)));
  EXPECT_NE(error_of([&] { recode_labels(s.codes, s.classes, {"dog"}, "x.csv"); })
                .find("x.csv:2: label 'cat' is not one of the model's 1 classes (dog)"),
            std::string::npos);
}

TEST(ClassLabelsTest, ColumnsThatCannotBeLabelsAreRefused) {
  std::vector<std::string> continuous, sparse, fine;
  for (int i = 0; i < 40; ++i) continuous.push_back(std::to_string(i * 0.37));
  for (int i = 0; i < 40; ++i) sparse.push_back(i < 30 ? "a" : std::to_string(i));  // 10 classes seen once
  for (int i = 0; i < 40; ++i) fine.push_back(std::to_string(i % 4));
  EXPECT_NE(error_of([&] { check_plausible_labels(encode_labels(continuous), "d.csv", "'x'"); })
                .find("d.csv: the label column 'x' has 40 distinct values in 40 rows"),
            std::string::npos);
  EXPECT_NE(error_of([&] { check_plausible_labels(encode_labels(sparse), "d.csv", "'x'"); }).find("--label-column"),
            std::string::npos);
  EXPECT_NO_THROW(check_plausible_labels(encode_labels(fine), "d.csv", "'x'"));
}

TEST(StandardizerTest, ConstantFeaturesGetScaleOne) {
  // Column 0 varies, column 1 is constant 0, column 2 constant 1000.5.
  at::Tensor x = at::tensor({1.0f, 0.0f, 1000.5f, 2.0f, 0.0f, 1000.5f, 4.0f, 0.0f, 1000.5f}).view({3, 3});
  auto s = Standardizer::fit(x);
  EXPECT_NEAR(s.std[0].item<float>(), std::sqrt(7.0 / 3.0), 1e-6);  // unbiased: ((1-7/3)^2+(2-7/3)^2+(4-7/3)^2)/2
  EXPECT_EQ(s.std[1].item<float>(), 1.0f);
  EXPECT_EQ(s.std[2].item<float>(), 1.0f);
  at::Tensor later = at::tensor({3.0f, 1.0f, 1001.5f}).view({1, 3});
  at::Tensor z = s.apply(later);
  EXPECT_FLOAT_EQ(z[0][1].item<float>(), 1.0f);
  EXPECT_FLOAT_EQ(z[0][2].item<float>(), 1.0f);
  // A float32 constant whose mean is inexact in float32 (0.1 x 1001 rows).
  auto inexact = Standardizer::fit(at::full({1001, 1}, 0.1f));
  EXPECT_EQ(inexact.std[0].item<float>(), 1.0f);
  // One row: every spread is undefined, so every scale is 1.
  auto one = Standardizer::fit(at::tensor({5.0f, 6.0f}).view({1, 2}));
  EXPECT_TRUE(at::equal(one.std, at::ones({2})));
  // Scalers saved by older versions (spread clamped to 1e-12) are repaired.
  EXPECT_EQ(Standardizer::safe_scale(at::tensor({1e-12f, 2.0f}), at::tensor({0.0f, 0.0f}))[0].item<float>(), 1.0f);
}

TEST(CsvWriterTest, TextColumnsAreQuotedAndNegativeZeroIsZero) {
  const std::string path = ::testing::TempDir() + "/endd_csv_writer_test.csv";
  endd::report::write_csv(path, {{"label", at::Tensor(), {"a,b", "say \"hi\""}}, {"v", at::tensor({-0.0, -1.5})}});
  std::string text = endd::read_file(path);
  std::remove(path.c_str());
  EXPECT_EQ(text, "label,v\n\"a,b\",0\n\"say \"\"hi\"\"\",-1.5\n");
}

TEST(SubsetsTest, StratifiedSplitKeepsClassSharesAndIsSeeded) {
  // 60 of class 0, 30 of class 1, 10 of class 2.
  Dataset d;
  d.name = "d";
  d.inputs = at::arange(100, at::kFloat).view({100, 1});
  std::vector<int64_t> y;
  for (int i = 0; i < 100; ++i) y.push_back(i < 60 ? 0 : i < 90 ? 1 : 2);
  d.labels = at::tensor(y, at::kLong);
  d.classes = {"a", "b", "c"};
  auto [train, val] = stratified_split(d, 0.2, 7);
  EXPECT_EQ(val.size(), 20);
  EXPECT_EQ(train.size(), 80);
  at::Tensor counts = at::bincount(val.labels, {}, 3);
  EXPECT_TRUE(at::equal(counts, at::tensor({12, 6, 2}, at::kLong))) << counts;
  // Disjoint and complete: the inputs are the row numbers.
  at::Tensor all = std::get<0>(at::cat({train.inputs, val.inputs}).flatten().sort());
  EXPECT_TRUE(at::equal(all, at::arange(100, at::kFloat)));
  EXPECT_TRUE(at::equal(stratified_split(d, 0.2, 7).second.inputs, val.inputs));
  EXPECT_FALSE(at::equal(stratified_split(d, 0.2, 8).second.inputs, val.inputs));
  EXPECT_EQ(train.classes, d.classes);
  EXPECT_NE(error_of([&] { stratified_split(d, 1.0, 7); }).find("must lie in (0, 1)"), std::string::npos);
  EXPECT_NE(error_of([&] { stratified_split(take_rows(d, at::tensor({0, 1}, at::kLong)), 0.1, 7); }).find("at least one"),
            std::string::npos);
}

TEST(SubsetsTest, LimitTakesTheFirstOrASeededRandomSubset) {
  Dataset d;
  d.inputs = at::arange(50, at::kFloat).view({50, 1});
  d.labels = at::zeros({50}, at::kLong);
  EXPECT_TRUE(at::equal(limit_rows(d, 5, false, 0).inputs.flatten(), at::arange(5, at::kFloat)));
  at::Tensor r = limit_rows(d, 5, true, 3).inputs.flatten();
  EXPECT_EQ(r.numel(), 5);
  EXPECT_TRUE(at::equal(r, std::get<0>(r.sort())));                         // original order kept
  EXPECT_EQ(std::get<0>(at::_unique(r)).numel(), 5);                        // no repeats
  EXPECT_TRUE(at::equal(r, limit_rows(d, 5, true, 3).inputs.flatten()));  // seeded
  EXPECT_EQ(limit_rows(d, 0, false, 0).size(), 50);
  EXPECT_EQ(limit_rows(d, 500, true, 0).size(), 50);
}
