// Expert loads as histogram buckets; see histogram.h.
#include "core/tensorboard/histogram.h"

#include <algorithm>
#include <cmath>

namespace grpo::tensorboard {

std::optional<Histogram> histogram_of(const std::vector<double>& values) {
  std::vector<double> finite;
  for (const double v : values)
    if (std::isfinite(v)) finite.push_back(v);
  if (finite.empty()) return std::nullopt;
  Histogram h;
  h.min = *std::min_element(finite.begin(), finite.end());
  h.max = *std::max_element(finite.begin(), finite.end());
  h.num = static_cast<double>(finite.size());
  for (const double v : finite) h.sum += v, h.sum_squares += v * v;

  double width = 0.25 / h.num;  // a quarter of the balanced share 1/n
  if ((h.max - h.min) / width > static_cast<double>(kMaxHistogramBuckets - 1))
    width = (h.max - h.min) / static_cast<double>(kMaxHistogramBuckets - 1);
  // Bucket k is centered on k * width. A count, not a loop over k: far from 0, k + 1 == k in doubles.
  const double first = std::floor(h.min / width + 0.5), last = std::floor(h.max / width + 0.5);
  const size_t count = std::min(static_cast<size_t>(last - first) + 1, kMaxHistogramBuckets);
  for (size_t i = 0; i < count; ++i) h.bucket_limit.push_back((first + static_cast<double>(i) + 0.5) * width);
  h.bucket.assign(h.bucket_limit.size(), 0.0);
  // By the limits as written, so that a reader re-bucketing the values by them agrees exactly;
  // max can round onto its own bucket's limit, and belongs to the last bucket all the same.
  for (const double v : finite) {
    const size_t b = static_cast<size_t>(std::upper_bound(h.bucket_limit.begin(), h.bucket_limit.end(), v) -
                                         h.bucket_limit.begin());
    h.bucket[std::min(b, h.bucket.size() - 1)] += 1;
  }
  return h;
}

}  // namespace grpo::tensorboard
