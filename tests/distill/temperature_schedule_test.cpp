#include <gtest/gtest.h>

#include "endd/core/error.h"
#include "endd/distill/temperature_schedule.h"

using endd::distill::TemperatureSchedule;

TEST(TemperatureScheduleTest, HoldsDecaysThenStaysAtOne) {
  TemperatureSchedule s(10.0, 30);  // hold 10 epochs, decay over 10, then 1
  EXPECT_DOUBLE_EQ(s.at(0), 10.0);
  EXPECT_DOUBLE_EQ(s.at(9), 10.0);
  EXPECT_DOUBLE_EQ(s.at(10), 10.0);
  EXPECT_DOUBLE_EQ(s.at(15), 5.5);  // halfway: 10 + (1 - 10) * 0.5
  EXPECT_DOUBLE_EQ(s.at(20), 1.0);
  EXPECT_DOUBLE_EQ(s.at(29), 1.0);
}

TEST(TemperatureScheduleTest, CustomFractions) {
  TemperatureSchedule s(5.0, 100, 0.0, 0.5);
  EXPECT_DOUBLE_EQ(s.at(0), 5.0);
  EXPECT_DOUBLE_EQ(s.at(25), 3.0);
  EXPECT_DOUBLE_EQ(s.at(50), 1.0);
  TemperatureSchedule none(4.0, 10, 1.0, 0.0);
  EXPECT_DOUBLE_EQ(none.at(9), 4.0);
}

TEST(TemperatureScheduleTest, RejectsBadValues) {
  EXPECT_THROW(TemperatureSchedule(0.5, 10), endd::Error);
  EXPECT_THROW(TemperatureSchedule(2.0, 0), endd::Error);
  EXPECT_THROW(TemperatureSchedule(2.0, 10, 0.8, 0.5), endd::Error);
}
