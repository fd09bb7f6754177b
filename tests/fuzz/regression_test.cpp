// Runs every saved fuzz input (seed corpus and crash regressions) through the
// parsers: each must be accepted or rejected with endd::Error, never crash.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>

#include "parsers.h"

TEST(FuzzRegressionTest, SavedInputsAreHandled) {
  namespace fs = std::filesystem;
  int inputs = 0;
  for (const auto* kind : {"corpus", "regressions"}) {
    for (const auto& target : endd::fuzz::targets()) {
      fs::path dir = fs::path(ENDD_FUZZ_DIR) / kind / target;
      std::error_code ec;
      if (!fs::is_directory(dir, ec)) continue;
      for (const auto& entry : fs::directory_iterator(dir)) {
        std::ifstream in(entry.path(), std::ios::binary);
        std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        EXPECT_NO_THROW(endd::fuzz::parse_input(target, reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()))
            << entry.path();
        ++inputs;
      }
    }
  }
  EXPECT_GT(inputs, 0) << "no saved fuzz inputs under " << ENDD_FUZZ_DIR;
}
