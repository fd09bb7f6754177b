// How a group shares out work (core/distributed.h): contiguous blocks of
// members or rows, and each rank's device.
#include <gtest/gtest.h>

#include "endd/core/distributed.h"

TEST(RankBlocksTest, BlocksAreContiguousCoverEveryItemOnceAndDifferByAtMostOne) {
  for (int64_t count : {0, 1, 5, 6, 7, 100}) {
    for (int world : {1, 2, 3, 4}) {
      int64_t next = 0;
      for (int rank = 0; rank < world; ++rank) {
        const auto [begin, end] = endd::rank_block(count, rank, world);
        EXPECT_EQ(begin, next) << count << " items, rank " << rank << " of " << world;
        const int64_t size = end - begin;
        EXPECT_TRUE(size == count / world || size == count / world + 1);
        EXPECT_EQ(size == count / world + 1, rank < count % world);  // the first ranks take the extra ones
        next = end;
      }
      EXPECT_EQ(next, count);
    }
  }
  EXPECT_EQ(endd::rank_block(7, 2, 3), (std::pair<int64_t, int64_t>{5, 7}));  // 3, 2, 2
}

TEST(RankBlocksTest, APlainCudaDeviceBecomesTheGpuOfTheLocalRank) {
  const c10::Device cuda(c10::kCUDA), cpu(c10::kCPU);
  EXPECT_EQ(endd::rank_device(cuda, 0, 4), c10::Device(c10::kCUDA, 0));
  EXPECT_EQ(endd::rank_device(cuda, 3, 4), c10::Device(c10::kCUDA, 3));
  EXPECT_EQ(endd::rank_device(cuda, 3, 2), c10::Device(c10::kCUDA, 1));  // 4 ranks sharing 2 GPUs
  EXPECT_EQ(endd::rank_device(c10::Device(c10::kCUDA, 0), 3, 4), c10::Device(c10::kCUDA, 0));  // asked for: kept
  EXPECT_EQ(endd::rank_device(cpu, 3, 4), cpu);
  EXPECT_EQ(endd::rank_device(cuda, 1, 0), cuda);  // no GPU visible: parse_device has refused already
}
