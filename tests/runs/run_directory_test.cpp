// What a run directory says about itself: the wall time its epochs took.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "endd/runs/run_directory.h"

TEST(RunDirectoryTest, TrainingSecondsSumTheLogsSecondsColumnEvenAfterADivergedEpoch) {
  const std::string dir = ::testing::TempDir() + "/endd_run_directory_seconds";
  std::filesystem::create_directories(dir);
  EXPECT_EQ(endd::runs::training_seconds(dir), 0.0);  // no log yet
  {
    std::ofstream log(dir + "/train_log.csv");
    log << "epoch,loss,temperature,learning_rate,seconds,val_error,val_nll\n"
        << "1,0.7,1,0.01,1.5,20,0.5\n"
        << "2,nan,1,0.01,2.25,90,nan\n";
  }
  EXPECT_DOUBLE_EQ(endd::runs::training_seconds(dir), 3.75);
  {
    std::ofstream log(dir + "/train_log.csv");
    log << "something else\n";
  }
  EXPECT_THROW(endd::runs::training_seconds(dir), std::exception);
  std::filesystem::remove_all(dir);
}
