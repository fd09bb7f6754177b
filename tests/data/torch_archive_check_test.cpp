// The pickle checker against hand-written pickles in the layout torch.save
// uses (protocol 2, as pickletools shows for torch.save(torch.arange(12.).view(2,3,2))).
#include <gtest/gtest.h>

#include <string>

#include "endd/core/error.h"
#include "endd/data/torch_archive_check.h"
#include "../error_of.h"

using endd::data::check_tensor_pickle;

namespace {

std::string unicode(const std::string& s) {
  std::string out = "X";
  for (int i = 0; i < 4; ++i) out += static_cast<char>((s.size() >> (8 * i)) & 0xff);
  return out + s;
}
std::string int1(int v) { return std::string("K") + static_cast<char>(v); }
std::string put(int i) { return std::string("q") + static_cast<char>(i); }  // BINPUT

// _rebuild_tensor_v2(('storage', FloatStorage, '0', 'cpu', numel), offset, sizes, strides, False, OrderedDict())
std::string tensor_pickle(int numel, int offset, const std::string& sizes, const std::string& strides,
                          const std::string& memo_after_storage = put(5)) {
  return std::string("\x80\x02") + "ctorch._utils\n_rebuild_tensor_v2\n" + put(0) + "((" + unicode("storage") +
         put(1) + "ctorch\nFloatStorage\n" + put(2) + unicode("0") + put(3) + unicode("cpu") + put(4) + int1(numel) +
         "t" + memo_after_storage + "Q" + int1(offset) + sizes + strides + "\x89" + "ccollections\nOrderedDict\n" +
         put(8) + ")R" + put(9) + "t" + put(10) + "R" + put(11) + ".";
}
const std::string kSizes = int1(2) + int1(3) + int1(2) + "\x87" + put(6);
const std::string kStrides = int1(6) + int1(2) + int1(1) + "\x87" + put(7);

std::string check(const std::string& pickle, uint64_t record_bytes = 48) {
  return endd::testing::error_of(
      [&] { check_tensor_pickle(pickle.data(), pickle.size(), {{"0", record_bytes}}, "t.pt"); });
}

}  // namespace

TEST(TorchArchiveCheckTest, AcceptsWhatTorchSaveWrites) {
  EXPECT_EQ(check(tensor_pickle(12, 0, kSizes, kStrides)), "");
  // A view: x[:, 1] of a [2, 3, 2] tensor has offset 2, sizes (2, 2), strides (6, 1).
  EXPECT_EQ(check(tensor_pickle(12, 2, int1(2) + int1(2) + "\x86" + put(6), int1(6) + int1(1) + "\x86" + put(7))), "");
  // An empty tensor needs no storage.
  EXPECT_EQ(check(tensor_pickle(0, 0, int1(0) + "\x85" + put(6), int1(1) + "\x85" + put(7)), 0), "");
}

TEST(TorchArchiveCheckTest, RefusesStoragesLargerThanTheirRecord) {
  EXPECT_EQ(check(tensor_pickle(12, 0, kSizes, kStrides), 47),
            "t.pt: not a valid PyTorch file (storage '0' claims 12 elements but its record holds 47 bytes)");
  EXPECT_NE(check(tensor_pickle(12, 0, kSizes, kStrides), 0).find("claims 12 elements but its record holds 0 bytes"), std::string::npos);
}

TEST(TorchArchiveCheckTest, RefusesViewsOutsideTheirStorage) {
  const std::string expected = "t.pt: not a valid PyTorch file (tensor larger than its storage)";
  EXPECT_EQ(check(tensor_pickle(11, 0, kSizes, kStrides)), expected);  // needs 12 elements
  EXPECT_EQ(check(tensor_pickle(12, 1, kSizes, kStrides)), expected);  // offset 1 runs one past
  EXPECT_EQ(check(tensor_pickle(12, 0, int1(3) + int1(3) + int1(2) + "\x87" + put(6), kStrides)), expected);
}

TEST(TorchArchiveCheckTest, RefusesMemoIndicesOutOfSequence) {
  // A fuzzed file put its value at memo index 112,523,662; LibTorch then sized
  // its memo to match (3.6 GB).
  EXPECT_EQ(check(tensor_pickle(12, 0, kSizes, kStrides, std::string("r\x8e\xf9\xb4\x06", 5))),
            "t.pt: not a valid PyTorch file (pickle memo index 112523662 out of sequence)");
  EXPECT_EQ(check(std::string("\x80\x02h\x07.", 5)),
            "t.pt: not a valid PyTorch file (pickle reads memo entry 7 before writing it)");
}

TEST(TorchArchiveCheckTest, RefusesMalformedPickles) {
  auto msg = [](const std::string& why) { return "t.pt: not a valid PyTorch file (" + why + ")"; };
  EXPECT_EQ(check(std::string("\x80\x02", 2)), msg("pickle has no STOP"));
  EXPECT_EQ(check("cos\nsystem\n."), msg("unexpected class os.system in the pickle"));
  EXPECT_EQ(check(std::string("\x80\x02t.", 4)), msg("pickle closes a mark it never opened"));
  EXPECT_EQ(check(std::string("\x80\x02(R.", 5)), msg("pickle stack underflow"));
  EXPECT_EQ(check(std::string("\x80\x02X\xff\xff\xff\x7f", 7)), msg("pickle runs past its data"));
  EXPECT_EQ(check(std::string("\x80\x02K\x01.", 5)), msg("pickle holds no tensor"));
  EXPECT_EQ(check(std::string("\x80\x02\x8a\x09", 4) + std::string(9, '\x01') + "."), msg("integer wider than 64 bits"));
}
