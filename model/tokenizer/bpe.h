// The BPE model of a tokenizer.json ("model": {"type": "BPE", ...}): vocabulary, ranked
// merges (written "a b" or ["a", "b"]), ignore_merges, byte_fallback (<0xNN> tokens),
// unk_token/fuse_unk, continuing_subword_prefix and end_of_word_suffix. Merging follows
// Hugging Face's word.rs: repeatedly apply the lowest-rank merge, leftmost first. Results
// of pieces shorter than 256 bytes are cached (a sharded, direct-mapped cache that is safe
// from many threads; each shard's slots are allocated on its first store). BPE dropout is not
// applied: encoding here is always deterministic.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "model/tokenizer/json_fields.h"

namespace grpo::tok {

// Open-addressing map from strings to ids, looked up by string_view without copying.
class StringIdMap {
 public:
  void build(const std::vector<std::string>* keys);  // keys[id], empty strings skipped
  int find(std::string_view key) const;              // -1 when absent

 private:
  const std::vector<std::string>* keys_ = nullptr;
  std::vector<int> slots_;
  size_t mask_ = 0;
};

class BpeModel {
 public:
  // `j` is the "model" object of tokenizer.json; errors name model.<field>.
  BpeModel(const Json& j, const Fields& f);

  // Appends the ids of one pre-token to `out`.
  void tokenize(std::string_view piece, std::vector<int>& out) const;

  int token_to_id(std::string_view token) const { return token_ids_.find(token); }
  // nullptr for ids outside the vocabulary (holes included).
  const std::string* id_to_token(int id) const;
  size_t size() const { return vocab_.size(); }
  bool ignore_merges() const { return ignore_merges_; }
  bool byte_fallback() const { return byte_fallback_; }

 private:
  struct MergeInfo {
    int rank;
    int new_id;
  };
  void read_vocab(const Json& j, const Fields& f);
  void read_merges(const Json& j, const Fields& f);
  void initial_symbols(std::string_view piece, std::vector<int>& ids, std::vector<int>& lengths) const;
  void merge(std::vector<int>& ids, std::vector<int>& lengths) const;
  const MergeInfo* find_merge(int left, int right) const;
  bool cache_lookup(std::string_view piece, size_t hash, std::vector<int>& out) const;
  void cache_store(std::string_view piece, size_t hash, const std::vector<int>& ids) const;

  std::vector<std::string> vocab_;  // id -> token; "" for holes
  StringIdMap token_ids_;
  std::vector<int> char_ids_;  // id of the single-character token for code points < 0x180
  std::vector<uint64_t> merge_keys_;
  std::vector<MergeInfo> merge_values_;
  size_t merge_mask_ = 0;
  bool ignore_merges_ = false;
  bool byte_fallback_ = false;
  bool fuse_unk_ = false;
  int unk_id_ = -1;
  std::string prefix_;  // continuing_subword_prefix
  std::string suffix_;  // end_of_word_suffix

  struct CacheEntry {
    size_t hash = 0;
    std::string key;
    std::vector<int> ids;
  };
  struct CacheShard {
    std::mutex mutex;
    std::vector<CacheEntry> entries;
  };
  std::unique_ptr<CacheShard[]> cache_;
};

}  // namespace grpo::tok
