// The one name → entry table of grpo.cpp, for every kind of thing a config picks by name:
// rewards (factories), RL algorithm pieces (advantage estimators, policy losses, loss
// aggregations, KL estimators, rollout corrections), dataset shapes, chat templates and
// learning-rate schedules. As verl's core_algos.py keeps its tables: registering a name twice
// fails, looking up an unknown name fails with a suggestion and the list of valid names, and
// names are listed sorted so that error messages and docs are stable. It does not lock: entries
// are added at start-up (or while a table is built), before any worker thread reads the table.
// Header-only and free of LibTorch, so rewards/ and datasets/ use it too.
#pragma once

#include <initializer_list>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "core/error.h"
#include "core/strings.h"

namespace grpo {

template <typename Entry>
class Registry {
 public:
  // kind names the table in error messages, e.g. "advantage estimator".
  explicit Registry(std::string kind) : kind_(std::move(kind)) {}
  Registry(std::string kind, std::initializer_list<std::pair<std::string, Entry>> entries)
      : kind_(std::move(kind)) {
    for (const auto& [name, entry] : entries) add(name, entry);
  }

  // An empty name, or one already present, is a grpo::Error.
  void add(const std::string& name, Entry entry) {
    require(!name.empty(), kind_ + " name must not be empty");
    require(entries_.count(name) == 0, kind_ + " '" + name + "' is already registered");
    entries_.emplace(name, std::move(entry));
  }

  // An unknown name is a grpo::Error: "unknown <kind> '<name>' (did you mean '<x>'?); valid
  // names: a, b, c". Entries are never removed, so the reference stays valid.
  const Entry& get(const std::string& name) const {
    const auto it = entries_.find(name);
    if (it == entries_.end())
      throw Error("unknown " + kind_ + " '" + name + "'" + did_you_mean(name, names()) +
                  "; valid names: " + joined_names());
    return it->second;
  }

  bool contains(const std::string& name) const { return entries_.count(name) != 0; }

  // Sorted.
  std::vector<std::string> names() const {
    std::vector<std::string> out;
    out.reserve(entries_.size());
    for (const auto& entry : entries_) out.push_back(entry.first);
    return out;
  }
  std::string joined_names() const { return join(names(), ", "); }

 private:
  std::string kind_;
  std::map<std::string, Entry> entries_;
};

}  // namespace grpo
