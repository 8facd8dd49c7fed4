// The progress line: counts, rate and ETA from elapsed time.
#include <gtest/gtest.h>

#include "core/progress.h"

TEST(Progress, PlainLineShowsCountRateAndEta) {
  const std::string line = grpo::Progress::render("train", 25, 100, "steps", 50.0, "reward 0.5", false);
  EXPECT_EQ(line, "train 25/100 steps  25% | 0.50 steps/s | elapsed 0m50s | ETA 2m30s | reward 0.5");
}

TEST(Progress, BarIsDrawnOnlyForTerminals) {
  const std::string line = grpo::Progress::render("gen", 12, 24, "tok", 1.0, "", true);
  EXPECT_NE(line.find("[############............]"), std::string::npos) << line;
}

TEST(Progress, UnknownTotalShowsNoEta) {
  const std::string line = grpo::Progress::render("score", 1500, 0, "samples", 3.0, "", false);
  EXPECT_EQ(line, "score 1500 samples | 500.00 samples/s | elapsed 0m03s");
}
