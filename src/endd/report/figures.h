#pragma once
// Figures are PNG files drawn by gnuplot from data files written beside them
// (the data is the contract; the picture is a view of it).
#include <string>
#include <vector>

namespace endd::report {

/// Writes `script` to `base + ".gp"` and runs gnuplot on it; the script must
/// `set output` to the variable `outfile`, which is a temporary name renamed to
/// `base + ".png"` on success, so a PNG is never half-written. Returns false
/// and prints a warning (no throw) if gnuplot is missing or fails: the data
/// files beside stay valid.
bool render_png(const std::string& base, const std::string& script, bool quiet);

/// Fixed-range histogram as densities (integral 1 over [low, high]); values
/// outside are clamped into the end bins.
struct Histogram {
  std::vector<double> centers, density;
};
Histogram histogram(const std::vector<double>& values, double low, double high, int bins);

/// `dir/name` as a string (figure and data files live side by side in `dir`).
std::string path_in(const std::string& dir, const std::string& name);

/// The start of every figure script: a 700x550 PNG to `outfile`, CSV data.
extern const char* const kPngScriptHeader;

/// Quotes a path for a gnuplot string literal.
std::string gnuplot_quote(const std::string& path);

}  // namespace endd::report
