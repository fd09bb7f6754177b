#include "endd/data/regression_datasets.h"

#include <ATen/ATen.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdlib>
#include <sstream>

#include "endd/core/error.h"
#include "endd/data/delimited_table.h"
#include "endd/data/image_files.h"

namespace endd::data {
namespace {

std::string dir_from(const char* variable, const std::string& fallback) {
  const char* v = std::getenv(variable);
  return v && *v ? v : fallback;
}
std::string sklearn_dir() { return dir_from("ENDD_SKLEARN_DATA_DIR", "/usr/lib/python3/dist-packages/sklearn/datasets/data"); }
std::string vega_dir() { return dir_from("ENDD_VEGA_DATA_DIR", "/usr/lib/python3/dist-packages/vega_datasets/_data"); }

std::string file_text(const std::string& path) {
  std::vector<uint8_t> bytes = read_maybe_gzip(path);
  return std::string(bytes.begin(), bytes.end());
}

// Whitespace-separated numbers, `cols` per line (sklearn's diabetes files).
std::vector<double> number_rows(const std::string& path, int64_t cols, int64_t& rows) {
  std::istringstream lines(file_text(path));
  std::vector<double> out;
  std::string line;
  rows = 0;
  for (int64_t n = 1; std::getline(lines, line); ++n) {
    std::istringstream fields(line);
    std::string field;
    int64_t k = 0;
    while (fields >> field) {
      char* end = nullptr;
      const double v = std::strtod(field.c_str(), &end);
      ENDD_CHECK(end == field.c_str() + field.size() && std::isfinite(v), path, ":", n, ": '", field,
                 "' is not a finite number");
      out.push_back(v);
      ++k;
    }
    if (k == 0) continue;
    ENDD_CHECK(k == cols, path, ":", n, ": ", k, " values, expected ", cols);
    ++rows;
  }
  ENDD_CHECK(rows > 0, path, ": no rows");
  return out;
}

Dataset make(const std::string& name, const std::vector<double>& x, int64_t rows, int64_t cols,
             const std::vector<double>& y, std::vector<std::string> features) {
  Dataset d;
  d.name = name;
  d.inputs = at::tensor(x, at::kDouble).reshape({rows, cols}).to(at::kFloat);
  d.targets = at::tensor(y, at::kDouble);
  d.feature_names = std::move(features);
  return d;
}

Dataset diabetes() {
  const std::string xs = sklearn_dir() + "/diabetes_data_raw.csv.gz", ys = sklearn_dir() + "/diabetes_target.csv.gz";
  int64_t n = 0, m = 0;
  std::vector<double> x = number_rows(xs, 10, n), y = number_rows(ys, 1, m);
  ENDD_CHECK(n == m, ys, ": ", m, " targets for ", n, " rows in ", xs);
  return make("diabetes", x, n, 10, y, {"age", "sex", "bmi", "bp", "s1", "s2", "s3", "s4", "s5", "s6"});
}

Dataset boston() {
  const std::string path = sklearn_dir() + "/boston_house_prices.csv";
  std::string text = file_text(path);
  // sklearn's first line holds the shape ("506,13,,,"); the header follows.
  const size_t eol = text.find('\n');
  ENDD_CHECK(eol != std::string::npos, path, ": expected a shape line, a header and rows");
  DelimitedTable t = parse_delimited_table(text.substr(eol + 1), path, [](const auto&, int64_t) { return int64_t{-1}; });
  ENDD_CHECK(t.cols == 14 && t.rows > 0, path, ": expected 13 features and MEDV, got ", t.cols, " columns");
  std::vector<double> x, y;
  for (int64_t i = 0; i < t.rows; ++i) {
    for (int64_t j = 0; j < 13; ++j) x.push_back(t.values[i * 14 + j]);
    y.push_back(t.values[i * 14 + 13]);
  }
  return make("boston", x, t.rows, 13, y, std::vector<std::string>(t.header.begin(), t.header.begin() + 13));
}

Dataset auto_mpg() {
  const std::string path = vega_dir() + "/cars.json";
  nlohmann::json cars;
  try {
    cars = nlohmann::json::parse(file_text(path));
  } catch (const nlohmann::json::exception& e) {
    throw Error(path + ": not valid JSON (" + e.what() + ")");
  }
  ENDD_CHECK(cars.is_array(), path, ": expected an array of cars");
  const char* numeric[] = {"Cylinders", "Displacement", "Horsepower", "Weight_in_lbs", "Acceleration"};
  std::vector<double> x, y;
  int64_t rows = 0;
  for (const auto& car : cars) {
    bool complete = car.is_object() && car.value("Miles_per_Gallon", nlohmann::json()).is_number() &&
                    car.value("Year", nlohmann::json()).is_string() && car.value("Origin", nlohmann::json()).is_string();
    for (const char* key : numeric) complete = complete && car.value(key, nlohmann::json()).is_number();
    if (!complete) continue;  // the UCI set's usual treatment of missing values
    for (const char* key : numeric) x.push_back(car[key].get<double>());
    const std::string year = car["Year"].get<std::string>(), origin = car["Origin"].get<std::string>();
    x.push_back(std::atof(year.substr(0, 4).c_str()));
    for (const char* o : {"USA", "Europe", "Japan"}) x.push_back(origin == o ? 1.0 : 0.0);
    y.push_back(car["Miles_per_Gallon"].get<double>());
    ++rows;
  }
  ENDD_CHECK(rows > 0, path, ": no complete cars");
  return make("auto-mpg", x, rows, 9, y,
              {"cylinders", "displacement", "horsepower", "weight", "acceleration", "year", "origin_usa",
               "origin_europe", "origin_japan"});
}

}  // namespace

std::vector<std::string> regression_dataset_names() { return {"diabetes", "boston", "auto-mpg"}; }

Dataset load_regression_dataset(const std::string& name) {
  if (name == "diabetes") return diabetes();
  if (name == "boston") return boston();
  if (name == "auto-mpg") return auto_mpg();
  throw Error("regression data set '" + name + "': unknown; expected diabetes, boston or auto-mpg");
}

}  // namespace endd::data
