// docs/config.md is generated from the config definitions; this fails when it is stale.
// Regenerate with: build/cpu/cli/grpo config docs > docs/config.md
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "rl/experiment/experiment_config.h"

TEST(ConfigDocs, CheckedInReferenceMatchesTheDefinitions) {
  std::ifstream in(std::string(GRPO_SOURCE_DIR) + "/docs/config.md");
  ASSERT_TRUE(in) << "docs/config.md is missing";
  std::stringstream text;
  text << in.rdbuf();
  EXPECT_EQ(text.str(), grpo::experiment_config_docs())
      << "docs/config.md is stale: run `build/cpu/cli/grpo config docs > docs/config.md`";
}
