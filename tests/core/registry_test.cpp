// The name → entry table every config lookup goes through: duplicates fail, unknown names fail
// with a suggestion and every valid name, and names come out sorted whatever the order of
// registration.
#include "core/registry.h"

#include <gtest/gtest.h>

#include <functional>
#include <string>

#include "core/error.h"
#include "tests/common/error_of.h"

namespace grpo {
namespace {

using grpo::testing::error_of;

TEST(Registry, RegisteringANameTwiceFailsAndKeepsTheFirstEntry) {
  Registry<int> r("widget");
  r.add("a", 1);
  EXPECT_EQ(error_of([&] { r.add("a", 2); }), "widget 'a' is already registered");
  EXPECT_EQ(r.get("a"), 1);
}

TEST(Registry, EmptyNameIsRefused) {
  Registry<int> r("widget");
  EXPECT_EQ(error_of([&] { r.add("", 1); }), "widget name must not be empty");
  EXPECT_TRUE(r.names().empty());
}

TEST(Registry, UnknownNameSuggestsTheClosestAndListsValidNamesSorted) {
  Registry<int> r("widget", {{"zeta", 1}, {"alpha", 2}});
  EXPECT_EQ(error_of([&] { r.get("alpah"); }),
            "unknown widget 'alpah' (did you mean 'alpha'?); valid names: alpha, zeta");
  EXPECT_EQ(error_of([&] { r.get("q"); }), "unknown widget 'q'; valid names: alpha, zeta");
}

TEST(Registry, InitialEntriesAreCheckedLikeAddedOnes) {
  EXPECT_EQ(error_of([] { Registry<int>("widget", {{"a", 1}, {"a", 2}}); }), "widget 'a' is already registered");
}

TEST(Registry, NamesAreSortedWhateverTheRegistrationOrder) {
  Registry<std::string> r("shape", {{"math", "m"}, {"chat", "c"}});
  r.add("gsm8k", "g");
  EXPECT_EQ(r.names(), (std::vector<std::string>{"chat", "gsm8k", "math"}));
  EXPECT_EQ(r.joined_names(), "chat, gsm8k, math");
  EXPECT_TRUE(r.contains("gsm8k"));
  EXPECT_FALSE(r.contains("gsm8"));
  EXPECT_EQ(r.get("chat"), "c");
}

}  // namespace
}  // namespace grpo
