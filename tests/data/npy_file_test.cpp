// numpy .npy files built byte by byte (format 1.0), as numpy.save lays them out.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <cstring>

#include "../error_of.h"
#include "endd/data/npy_file.h"

using namespace endd::data;
using endd::testing::error_of;

namespace {
std::vector<char> npy(const std::string& dict, const std::string& data) {
  std::string header = dict;
  while ((10 + header.size() + 1) % 64 != 0) header += ' ';
  header += '\n';
  std::string out = std::string("\x93NUMPY\x01\x00", 8);
  out += static_cast<char>(header.size() & 0xff);
  out += static_cast<char>(header.size() >> 8);
  out += header + data;
  return std::vector<char>(out.begin(), out.end());
}
template <typename T>
std::string bytes_of(std::vector<T> v, bool big_endian = false) {
  std::string out(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(T));
  if (big_endian)
    for (size_t i = 0; i < v.size(); ++i) std::reverse(out.begin() + i * sizeof(T), out.begin() + (i + 1) * sizeof(T));
  return out;
}
}  // namespace

TEST(NpyFileTest, FloatsIntegersEndiannessAndFortranOrder) {
  auto a = parse_npy(npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }",
                         bytes_of<float>({1, 2, 3, 4, 5, 6})), "a.npy");
  EXPECT_TRUE(at::equal(a.values, at::tensor({1.f, 2.f, 3.f, 4.f, 5.f, 6.f}).view({2, 3})));
  // Big-endian float64.
  auto b = parse_npy(npy("{'descr': '>f8', 'fortran_order': False, 'shape': (2,), }", bytes_of<double>({0.5, -2}, true)),
                     "b.npy");
  EXPECT_TRUE(at::equal(b.values, at::tensor({0.5, -2.0})));
  // Fortran order: column-major storage of [[1, 2, 3], [4, 5, 6]].
  auto f = parse_npy(npy("{'descr': '<i8', 'fortran_order': True, 'shape': (2, 3), }",
                         bytes_of<int64_t>({1, 4, 2, 5, 3, 6})), "f.npy");
  EXPECT_TRUE(at::equal(f.values, at::tensor({1, 2, 3, 4, 5, 6}, at::kLong).view({2, 3})));
  auto u = parse_npy(npy("{'descr': '<u4', 'fortran_order': False, 'shape': (2,), }", bytes_of<uint32_t>({7, 4000000000u})),
                     "u.npy");
  EXPECT_TRUE(at::equal(u.values, at::tensor({int64_t{7}, int64_t{4000000000}}, at::kLong)));
}

TEST(NpyFileTest, TextArrays) {
  // '<U5' holds UTF-32 code units; "cat" and "é" padded with zeros.
  std::vector<uint32_t> units{'c', 'a', 't', 0, 0, 0xE9, 0, 0, 0, 0};
  auto t = parse_npy(npy("{'descr': '<U5', 'fortran_order': False, 'shape': (2,), }", bytes_of(units)), "t.npy");
  ASSERT_TRUE(t.is_text());
  EXPECT_EQ(t.text, (std::vector<std::string>{"cat", "\xC3\xA9"}));
}

TEST(NpyFileTest, DamagedAndUnsupportedFilesAreRefused) {
  const std::string dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2), }";
  EXPECT_NE(error_of([&] { parse_npy(npy(dict, bytes_of<float>({1, 2, 3})), "x.npy"); }).find("x.npy: .npy data is truncated"),
            std::string::npos);
  EXPECT_NE(error_of([&] { parse_npy(npy(dict, bytes_of<float>({1, 2, 3, 4, 5})), "x.npy"); }).find("bytes after"),
            std::string::npos);
  EXPECT_NE(error_of([&] { parse_npy(npy("{'descr': '|O', 'fortran_order': False, 'shape': (1,), }", "12345678"), "o.npy"); })
                .find("object array"),
            std::string::npos);
  EXPECT_NE(error_of([&] { parse_npy(npy("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (1,), }", "1234"), "s.npy"); })
                .find("structured"),
            std::string::npos);
  EXPECT_NE(error_of([&] { parse_npy(std::vector<char>{'a', 'b', 'c'}, "n.npy"); }).find("not a numpy .npy file"),
            std::string::npos);
  EXPECT_NE(error_of([&] { parse_npy(npy("{'descr': '<c8', 'fortran_order': False, 'shape': (1,), }", "12345678"), "c.npy"); })
                .find("not supported"),
            std::string::npos);
  EXPECT_NE(error_of([&] { parse_npy(npy("{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999, 99999999999), }", ""), "h.npy"); })
                .find("h.npy"),
            std::string::npos);
}
