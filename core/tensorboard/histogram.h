// A vector of values (a run.db histogram row) as the buckets of a TensorBoard HistogramProto.
// The run store's histograms are MoE router expert loads: the share of a layer's tokens each of
// n experts received, summing to 1. Read as a distribution of n values, balance is every share
// near 1/n, and collapse is a few shares far above it with the rest near 0; so the buckets are
// a quarter of the balanced share 1/n wide and centered on its quarters, bucket k holding
// [(k - 1/2)/(4n), (k + 1/2)/(4n)), so that the balanced share (k = 4) and a dead expert's 0
// (k = 0) each sit mid-bucket. They run from the bucket holding the smallest value to the one
// holding the largest (widened, for values that are not shares, so that at most
// kMaxHistogramBuckets are needed). A bucket's count is how many values fall in it; min, max,
// num, sum and sum of squares are the values' own. Non-finite values are left out, as
// TensorBoard cannot place them. Not here: the protobuf (event_writer.h).
#pragma once

#include <cstddef>
#include <optional>
#include <vector>

namespace grpo::tensorboard {

constexpr size_t kMaxHistogramBuckets = 256;

struct Histogram {
  double min = 0, max = 0, num = 0, sum = 0, sum_squares = 0;
  // Bucket i holds the values v with bucket_limit[i-1] <= v < bucket_limit[i] (i = 0 from min),
  // as TensorFlow fills HistogramProto; the last bucket also holds max.
  std::vector<double> bucket_limit, bucket;
};

// The histogram of the finite values of `values`; nullopt when there are none.
std::optional<Histogram> histogram_of(const std::vector<double>& values);

}  // namespace grpo::tensorboard
