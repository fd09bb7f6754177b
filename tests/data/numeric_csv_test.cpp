#include <gtest/gtest.h>

#include "endd/core/error.h"
#include "endd/data/numeric_csv.h"

using endd::data::parse_numeric_csv;

namespace {
std::string csv_error(const std::string& text) {
  try {
    parse_numeric_csv(text, "in.csv");
  } catch (const endd::Error& e) {
    return e.what();
  }
  return "";
}
}  // namespace

TEST(NumericCsvTest, ParsesHeaderCrlfBlankLinesAndSpaces) {
  auto t = parse_numeric_csv("a,b\r\n1, 2.5\r\n\r\n-3e-2 ,+4\n", "in.csv");
  EXPECT_EQ(t.rows, 2);
  EXPECT_EQ(t.cols, 2);
  EXPECT_EQ(t.header, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(t.values, (std::vector<double>{1, 2.5, -0.03, 4}));
  EXPECT_EQ(t.line_of_row, (std::vector<int64_t>{2, 4}));
}

TEST(NumericCsvTest, ErrorsNameFileLineAndColumn) {
  EXPECT_EQ(csv_error("1,2\n3,x\n"), "in.csv:2: column 2: expected a number, got 'x'");
  EXPECT_EQ(csv_error("1,2\n3,4,5\n"), "in.csv:2: expected 2 columns (as in the first row), got 3");
  EXPECT_EQ(csv_error("1,2\n3,nan\n"), "in.csv:2: column 2: value 'nan' is not finite");
  EXPECT_EQ(csv_error("1,2\n3,inf\n"), "in.csv:2: column 2: value 'inf' is not finite");
  EXPECT_EQ(csv_error("1,2\n3,\n"), "in.csv:2: column 2: expected a number, got '(empty)'");
  EXPECT_EQ(csv_error(""), "in.csv: no data rows (the file is empty)");
  EXPECT_EQ(csv_error("p1,p2\n"), "in.csv: no data rows (the file is empty apart from its header)");
}

TEST(NumericCsvTest, MissingFileIsNamed) {
  try {
    endd::data::read_numeric_csv("/nonexistent/x.csv");
    FAIL();
  } catch (const endd::Error& e) {
    EXPECT_EQ(std::string(e.what()), "/nonexistent/x.csv: no such file");
  }
}
