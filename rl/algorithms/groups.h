// The groups of a GRPO batch: the G completions sampled for one prompt are G consecutive rows,
// so rows [g·G, (g+1)·G) belong to prompt g. Everything that reads a batch by group (advantage
// estimators, the trainer's group metrics, sample logging, the hacking audit) asks this type
// instead of repeating the arithmetic, and one predicate says which groups carry no learning
// signal. Not here: which prompt a group came from, or groups of unequal size.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <string>

namespace grpo::rl {

class Groups {
 public:
  // rows: the batch's rows; size: G, completions per prompt. A grpo::Error unless size >= 2 and
  // rows is a positive multiple of size; `what` names the batch in that error ("rewards").
  Groups(int64_t rows, int64_t size, const std::string& what = "batch");

  int64_t size() const { return size_; }           // G
  int64_t count() const { return rows_ / size_; }  // prompts
  int64_t rows() const { return rows_; }
  int64_t group_of(int64_t row) const { return row / size_; }
  int64_t index_in_group(int64_t row) const { return row % size_; }
  int64_t first_row(int64_t group) const { return group * size_; }

  // per_row: [rows] any dtype → [count, size], a view when per_row is contiguous.
  torch::Tensor by_group(const torch::Tensor& per_row) const;

  // [count] bool: group g's values are all equal (max == min), so its group-relative advantages
  // are zero and it carries no learning signal (DAPO's dynamic sampling drops such groups).
  // values: [rows] any real dtype; compared exactly in that dtype.
  torch::Tensor zero_variance(const torch::Tensor& values) const;

 private:
  int64_t rows_, size_;
};

}  // namespace grpo::rl
