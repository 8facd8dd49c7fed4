// A name → function table, one per kind of algorithm piece (advantage estimators, policy losses,
// loss aggregations, KL estimators, rollout corrections), in the way verl's core_algos.py keeps
// them: configs pick an entry by name, registering a name twice fails, and looking up an unknown
// name fails with the list of valid ones. It does not lock: entries are added at start-up, before
// any worker thread reads the table.
#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "core/error.h"

namespace grpo::rl {

template <typename Entry>
class Registry {
 public:
  // kind names the table in error messages, e.g. "advantage estimator".
  explicit Registry(std::string kind) : kind_(std::move(kind)) {}

  void add(const std::string& name, Entry entry) {
    require(!name.empty(), kind_ + " name must not be empty");
    require(entries_.count(name) == 0, kind_ + " '" + name + "' is already registered");
    entries_.emplace(name, std::move(entry));
  }

  const Entry& get(const std::string& name) const {
    auto it = entries_.find(name);
    if (it == entries_.end())
      throw Error("unknown " + kind_ + " '" + name + "'; valid names: " + joined_names());
    return it->second;
  }

  bool contains(const std::string& name) const { return entries_.count(name) != 0; }

  // Sorted, so error messages and docs are stable.
  std::vector<std::string> names() const {
    std::vector<std::string> out;
    for (const auto& [name, entry] : entries_) out.push_back(name);
    return out;
  }

  std::string joined_names() const {
    std::string out;
    for (const auto& [name, entry] : entries_) out += (out.empty() ? "" : ", ") + name;
    return out;
  }

 private:
  std::string kind_;
  std::map<std::string, Entry> entries_;
};

}  // namespace grpo::rl
