#include "endd/report/figures.h"

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>

#include "endd/core/atomic_file.h"

namespace endd::report {

const char* const kPngScriptHeader =
    "set terminal pngcairo noenhanced size 700,550\nset output outfile\nset datafile separator ','\n";

std::string path_in(const std::string& dir, const std::string& name) {
  return (std::filesystem::path(dir) / name).string();
}

std::string gnuplot_quote(const std::string& path) {
  std::string q = "'";
  for (char ch : path) {
    if (ch == '\'') q += "''";
    else q += ch;
  }
  return q + "'";
}

bool render_png(const std::string& base, const std::string& script, bool quiet) {
  const std::string gp = base + ".gp", png = base + ".png", tmp = base + ".png.tmp";
  write_file_atomic(gp, "outfile = " + gnuplot_quote(tmp) + "\n" + script);
  pid_t pid = ::fork();
  if (pid == 0) {
    // gnuplot's own chatter (font warnings) is not ours to show.
    if (!std::freopen("/dev/null", "w", stdout)) ::_exit(126);
    if (quiet && !std::freopen("/dev/null", "w", stderr)) ::_exit(126);
    ::execlp("gnuplot", "gnuplot", gp.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  int status = 0;
  bool ok = pid > 0 && ::waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0;
  ok = ok && std::rename(tmp.c_str(), png.c_str()) == 0;
  if (!ok) {
    std::remove(tmp.c_str());
    if (!quiet)
      std::fprintf(stderr, "endd: warning: could not draw %s (is gnuplot installed?); its data is beside it\n",
                   png.c_str());
  }
  return ok;
}

Histogram histogram(const std::vector<double>& values, double low, double high, int bins) {
  Histogram h;
  if (bins < 1 || !(high > low)) return h;
  double width = (high - low) / bins;
  std::vector<double> count(static_cast<size_t>(bins), 0.0);
  for (double v : values) {
    int b = static_cast<int>((v - low) / width);
    count[static_cast<size_t>(std::clamp(b, 0, bins - 1))] += 1;
  }
  for (int b = 0; b < bins; ++b) {
    h.centers.push_back(low + (b + 0.5) * width);
    h.density.push_back(values.empty() ? 0.0 : count[static_cast<size_t>(b)] / (double(values.size()) * width));
  }
  return h;
}

}  // namespace endd::report
