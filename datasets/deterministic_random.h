// Deterministic pseudo-random numbers and hashes for data generation, splitting and shuffling.
// Everything here gives the same values on every platform and standard library (unlike
// std::uniform_int_distribution, whose algorithm is implementation-defined), so a seed names
// one dataset and one data order everywhere. Not cryptographic; not for model sampling.
#pragma once

#include <cstdint>
#include <string>

namespace grpo::datasets {

// The splitmix64 finalizer: a bijective 64-bit mix with good avalanche.
inline uint64_t mix64(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

// An independent seed for sub-stream `stream` of `seed` (e.g. one per epoch or per split).
inline uint64_t derive_seed(uint64_t seed, uint64_t stream) { return mix64(mix64(seed) ^ mix64(~stream)); }

// FNV-1a over the bytes, then mixed: a stable hash of a problem's canonical text.
inline uint64_t stable_hash(const std::string& text) {
  uint64_t h = 0xCBF29CE484222325ull;
  for (unsigned char c : text) {
    h ^= c;
    h *= 0x100000001B3ull;
  }
  return mix64(h);
}

// splitmix64 generator with unbiased bounded draws.
class DeterministicRandom {
 public:
  explicit DeterministicRandom(uint64_t seed) : state_(seed) {}

  uint64_t next() {
    state_ += 0x9E3779B97F4A7C15ull;
    uint64_t z = state_;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }

  // Uniform in [0, bound); bound > 0. Rejection keeps it unbiased.
  uint64_t below(uint64_t bound) {
    const uint64_t limit = UINT64_MAX - UINT64_MAX % bound;
    uint64_t x = next();
    while (x >= limit) x = next();
    return x % bound;
  }

  // Uniform in [lo, hi], both inclusive; lo <= hi.
  int64_t between(int64_t lo, int64_t hi) {
    const uint64_t span = static_cast<uint64_t>(hi) - static_cast<uint64_t>(lo);
    if (span == UINT64_MAX) return static_cast<int64_t>(next());
    return static_cast<int64_t>(static_cast<uint64_t>(lo) + below(span + 1));
  }

 private:
  uint64_t state_;
};

}  // namespace grpo::datasets
