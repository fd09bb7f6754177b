#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "endd/core/error.h"
#include "endd/data/member_outputs.h"
#include "endd/data/tensor_file.h"

using namespace endd::data;

namespace {
std::string temp_path(const std::string& name) {
  return (std::filesystem::temp_directory_path() / ("endd_test_" + std::to_string(::getpid()) + "_" + name)).string();
}
}  // namespace

TEST(TensorFileTest, RoundTrip) {
  std::string path = temp_path("rt.pt");
  at::Tensor t = at::randn({4, 3, 2}, at::kDouble);
  save_tensor_file(path, t);
  EXPECT_TRUE(at::equal(load_tensor_file(path), t));
  std::remove(path.c_str());
}

TEST(TensorFileTest, ReadsWhatPythonTorchSaveWrites) {
  if (std::system("/usr/bin/python3 -c 'import torch' >/dev/null 2>&1") != 0)
    GTEST_SKIP() << "Debian's python3-torch is not installed";
  std::string path = temp_path("py.pt");
  std::string cmd = "/usr/bin/python3 -c \"import torch; torch.save(torch.arange(12, dtype=torch.float32)"
                    ".view(2,3,2).softmax(-1), '" + path + "')\"";
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  at::Tensor t = load_member_outputs(path, {});
  EXPECT_EQ(t.sizes(), (at::IntArrayRef{2, 3, 2}));
  EXPECT_NEAR(t[1][2][1].item<double>(), 1.0 / (1.0 + std::exp(-1.0)), 1e-6);
  std::remove(path.c_str());
}

TEST(TensorFileTest, RejectsFilesThatAreNotTensors) {
  std::string path = temp_path("bad.pt");
  std::ofstream(path) << "not a zip";
  try {
    load_tensor_file(path);
    FAIL();
  } catch (const endd::Error& e) {
    EXPECT_NE(std::string(e.what()).find(path + ": not a PyTorch file"), std::string::npos);
  }
  std::remove(path.c_str());
}

TEST(MemberOutputsTest, ChecksProbabilitiesRowByRow) {
  at::Tensor p = at::full({3, 2, 2}, 0.5, at::kDouble);
  p.index_put_({1, 1, 0}, 0.7);  // member 2 of row 1 sums to 1.2
  MemberOutputOptions o;
  try {
    validate_probabilities(p, o, [](int64_t r) { return "f.csv:" + std::to_string(r + 2); });
    FAIL();
  } catch (const endd::Error& e) {
    EXPECT_EQ(std::string(e.what()).substr(0, 50), "f.csv:3: member 2's probabilities sum to 1.2, expe");
  }
  o.renormalize = true;
  validate_probabilities(p, o, [](int64_t r) { return std::to_string(r); });
  EXPECT_NEAR(p[1][1][0].item<double>(), 0.7 / 1.2, 1e-12);
}
