// Each settings section validates itself (run:, rl:, optim:, train:, sft:, distill:) with
// messages naming the key, and grpo::validate(ExperimentConfig) reports every section's
// problems in one error, in section order. Defaults are valid everywhere. Choice keys that pick
// a registered piece offer the registry's names in the schema (and so in docs/config.md).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/error.h"
#include "core/strings.h"
#include "datasets/shapes.h"
#include "rl/algorithms/advantages.h"
#include "rl/experiment/experiment_config.h"
#include "rl/learner/optimizer.h"

namespace {

using Problems = std::vector<std::string>;

}  // namespace

TEST(SettingsValidation, DefaultSectionsHaveNoProblems) {
  auto config = grpo::config::defaults<grpo::ExperimentConfig>();
  EXPECT_EQ(grpo::validate(config.run), Problems{});
  EXPECT_EQ(grpo::rl::validate(config.rl), Problems{});
  EXPECT_EQ(grpo::rl::validate(config.optim), Problems{});
  EXPECT_EQ(grpo::rl::validate(config.train), Problems{});
  EXPECT_EQ(grpo::rl::validate(config.sft), Problems{});
  EXPECT_EQ(grpo::rl::validate(config.distill), Problems{});
  EXPECT_NO_THROW(grpo::validate(config));
}

TEST(SettingsValidation, EachSectionNamesItsOwnKeys) {
  grpo::RunSettings run;
  run.threads = -1;
  EXPECT_EQ(grpo::validate(run), (Problems{"'run.threads' must be >= 0", "'run.output_dir' must not be empty"}));

  grpo::rl::OptimSettings optim;
  optim.betas = {0.9};
  optim.lr = 0;
  EXPECT_EQ(grpo::rl::validate(optim), (Problems{"'optim.betas' must hold two numbers", "'optim.lr' must be > 0"}));

  grpo::rl::TrainSettings train;
  train.steps = -1;
  train.keep_last = 0;
  EXPECT_EQ(grpo::rl::validate(train), (Problems{"'train.steps' must be >= 0", "'train.keep_last' must be >= 1"}));

  grpo::rl::SftSettings sft;
  sft.batch_size = 0;
  EXPECT_EQ(grpo::rl::validate(sft), Problems{"'sft.batch_size' must be >= 1"});

  grpo::rl::DistillSettings distill;
  distill.generate_batch = 0;
  distill.kl_chunk_rows = 0;
  EXPECT_EQ(grpo::rl::validate(distill),
            (Problems{"'distill.generate_batch' must be >= 1", "'distill.kl_chunk_rows' must be >= 1"}));
}

TEST(SettingsValidation, RlSectionChecksGroupsAndRegisteredNames) {
  auto config = grpo::config::defaults<grpo::ExperimentConfig>();
  auto rl = config.rl;
  rl.group_size = 8;
  rl.batch_size = 20;
  rl.kl_estimator = "k9";
  const auto problems = grpo::rl::validate(rl);
  ASSERT_EQ(problems.size(), 2u);
  EXPECT_EQ(problems[0], "'rl.batch_size' (20) must be divisible by 'rl.group_size' (8)");
  EXPECT_EQ(problems[1].rfind("'rl.kl_estimator' is 'k9'", 0), 0u) << problems[1];
}

TEST(SettingsValidation, TheExperimentListsEverySectionsProblemsInSectionOrder) {
  auto config = grpo::config::defaults<grpo::ExperimentConfig>();
  config.sft.batch_size = 0;
  config.run.threads = -2;
  config.optim.lr = -1;
  try {
    grpo::validate(config);
    FAIL() << "expected a grpo::Error";
  } catch (const grpo::Error& e) {
    EXPECT_EQ(e.message(), "'run.threads' must be >= 0\n'optim.lr' must be > 0\n'sft.batch_size' must be >= 1");
  }
}

TEST(SettingsValidation, TheSchemaOffersEveryRegisteredNameOfAChoiceKey) {
  const std::string docs = grpo::experiment_config_docs();
  const auto offered = [&docs](const std::string& key, const std::string& names) {
    return docs.find("| `" + key + "` | one of: " + names + " |") != std::string::npos;
  };
  EXPECT_TRUE(offered("data.train.format", grpo::join(grpo::datasets::shape_names(), ", ")));
  EXPECT_TRUE(offered("rl.reward_scaling", grpo::rl::reward_scalings().joined_names()));
  EXPECT_TRUE(offered("optim.schedule", grpo::rl::lr_schedules().joined_names()));
  EXPECT_TRUE(offered("optim.schedule", "constant, cosine"));
}
