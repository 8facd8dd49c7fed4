// BPE model: loading, merging and the piece cache; see bpe.h.
#include "model/tokenizer/bpe.h"

#include <algorithm>
#include <cstdio>
#include <functional>

#include "model/tokenizer/unicode.h"

namespace grpo::tok {
namespace {

constexpr size_t kCacheShards = 64;
constexpr size_t kCacheSlotsPerShard = 512;
constexpr size_t kMaxCachedBytes = 256;  // Hugging Face caches only pieces this short
constexpr size_t kMaxVocabIdGap = size_t{1} << 20;  // ids beyond entries + this are refused
constexpr uint32_t kCharTableSize = 0x180;  // covers the 256 byte-level characters

size_t table_size_for(size_t n) {
  size_t size = 16;
  while (size < n * 2) size <<= 1;
  return size;
}

uint64_t mix(uint64_t x) {  // splitmix64 finalizer: spreads pair keys over the table
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

uint64_t pair_key(int left, int right) {
  return (static_cast<uint64_t>(static_cast<uint32_t>(left)) << 32) | static_cast<uint32_t>(right);
}

}  // namespace

void StringIdMap::build(const std::vector<std::string>* keys) {
  keys_ = keys;
  const size_t size = table_size_for(keys->size());
  slots_.assign(size, -1);
  mask_ = size - 1;
  for (size_t id = 0; id < keys->size(); ++id) {
    const std::string& k = (*keys)[id];
    if (k.empty()) continue;
    size_t slot = std::hash<std::string_view>{}(k) & mask_;
    while (slots_[slot] >= 0) slot = (slot + 1) & mask_;
    slots_[slot] = static_cast<int>(id);
  }
}

int StringIdMap::find(std::string_view key) const {
  if (slots_.empty()) return -1;
  for (size_t slot = std::hash<std::string_view>{}(key) & mask_;; slot = (slot + 1) & mask_) {
    const int id = slots_[slot];
    if (id < 0) return -1;
    if ((*keys_)[static_cast<size_t>(id)] == key) return id;
  }
}

BpeModel::BpeModel(const Json& j, const Fields& f) : cache_(new CacheShard[kCacheShards]) {
  read_vocab(j, f);
  read_merges(j, f);
  ignore_merges_ = f.boolean_or(j, "ignore_merges", "model", false);
  byte_fallback_ = f.boolean_or(j, "byte_fallback", "model", false);
  fuse_unk_ = f.boolean_or(j, "fuse_unk", "model", false);
  prefix_ = f.string_or(j, "continuing_subword_prefix", "model", "");
  suffix_ = f.string_or(j, "end_of_word_suffix", "model", "");
  const std::string unk = f.string_or(j, "unk_token", "model", "");
  if (!unk.empty()) {
    unk_id_ = token_ids_.find(unk);
    if (unk_id_ < 0) f.fail("model.unk_token", "'" + unk + "' is not in model.vocab");
  }
}

void BpeModel::read_vocab(const Json& j, const Fields& f) {
  const Json& vocab = f.object(j, "vocab", "model");
  for (const auto& [token, id] : vocab.items()) {
    if (!id.is_number_integer() || id.get<long long>() < 0 || id.get<long long>() > (1 << 30))
      f.fail("model.vocab." + token, "expected a non-negative integer id");
    const auto index = static_cast<size_t>(id.get<long long>());
    // vocab_ is indexed by id: one huge id in a short file must not allocate gigabytes
    // (found by tokenizer_json_fuzz). Real vocabularies are dense; this allows generous gaps.
    if (index >= vocab.size() + kMaxVocabIdGap)
      f.fail("model.vocab." + token, "id " + std::to_string(index) + " lies more than " +
                                         std::to_string(kMaxVocabIdGap) + " past the vocabulary's " +
                                         std::to_string(vocab.size()) + " entries");
    if (index >= vocab_.size()) vocab_.resize(index + 1);
    if (!vocab_[index].empty()) f.fail("model.vocab." + token, "id " + std::to_string(index) + " is used twice");
    vocab_[index] = token;
  }
  token_ids_.build(&vocab_);
  char_ids_.assign(kCharTableSize, -1);
  for (size_t id = 0; id < vocab_.size(); ++id) {
    const std::string& t = vocab_[id];
    if (t.empty()) continue;
    size_t i = 0;
    const uint32_t cp = next_code_point(t, i);
    if (i == t.size() && cp < kCharTableSize) char_ids_[cp] = static_cast<int>(id);
  }
}

void BpeModel::read_merges(const Json& j, const Fields& f) {
  const Json& merges = f.array(j, "merges", "model");
  const size_t size = table_size_for(merges.size());
  merge_keys_.assign(size, ~0ULL);
  merge_values_.assign(size, MergeInfo{-1, -1});
  merge_mask_ = size - 1;
  for (size_t rank = 0; rank < merges.size(); ++rank) {
    const std::string field = Fields::index("model.merges", rank);
    const Json& m = merges[rank];
    std::string left, right;
    if (m.is_string()) {
      const std::string s = m.get<std::string>();
      const size_t space = s.find(' ');
      if (space == std::string::npos) f.fail(field, "expected \"left right\", got \"" + s + "\"");
      left = s.substr(0, space);
      right = s.substr(space + 1);
    } else if (m.is_array() && m.size() == 2 && m[0].is_string() && m[1].is_string()) {
      left = m[0].get<std::string>();
      right = m[1].get<std::string>();
    } else {
      f.fail(field, "expected \"left right\" or [\"left\", \"right\"]");
    }
    const int a = token_ids_.find(left), b = token_ids_.find(right), c = token_ids_.find(left + right);
    if (a < 0 || b < 0 || c < 0)
      f.fail(field, "merge '" + left + "' + '" + right + "' uses a token that is not in model.vocab");
    const uint64_t key = pair_key(a, b);
    size_t slot = mix(key) & merge_mask_;
    while (merge_keys_[slot] != ~0ULL && merge_keys_[slot] != key) slot = (slot + 1) & merge_mask_;
    if (merge_keys_[slot] == key) continue;  // a repeated merge keeps its first (lowest) rank
    merge_keys_[slot] = key;
    merge_values_[slot] = {static_cast<int>(rank), c};
  }
}

const BpeModel::MergeInfo* BpeModel::find_merge(int left, int right) const {
  const uint64_t key = pair_key(left, right);
  for (size_t slot = mix(key) & merge_mask_;; slot = (slot + 1) & merge_mask_) {
    if (merge_keys_[slot] == key) return &merge_values_[slot];
    if (merge_keys_[slot] == ~0ULL) return nullptr;
  }
}

const std::string* BpeModel::id_to_token(int id) const {
  if (id < 0 || static_cast<size_t>(id) >= vocab_.size() || vocab_[static_cast<size_t>(id)].empty()) return nullptr;
  return &vocab_[static_cast<size_t>(id)];
}

// One symbol per character; unknown characters become <0xNN> byte tokens (byte_fallback),
// the unk token (merged into one when fuse_unk), or nothing, as in Hugging Face's merge_word.
void BpeModel::initial_symbols(std::string_view piece, std::vector<int>& ids, std::vector<int>& lengths) const {
  int pending_unk_len = 0;
  auto flush_unk = [&] {
    if (pending_unk_len > 0) {
      ids.push_back(unk_id_);
      lengths.push_back(pending_unk_len);
    }
    pending_unk_len = 0;
  };
  std::string affixed;
  for (size_t i = 0; i < piece.size();) {
    const size_t start = i;
    const uint32_t cp = next_code_point(piece, i);
    const int len = static_cast<int>(i - start);
    int id = -1;
    if (prefix_.empty() && suffix_.empty()) {
      id = cp < kCharTableSize ? char_ids_[cp] : token_ids_.find(piece.substr(start, i - start));
    } else {
      affixed.assign(start > 0 ? prefix_ : std::string());
      affixed.append(piece.substr(start, i - start));
      if (i == piece.size()) affixed += suffix_;
      id = token_ids_.find(affixed);
    }
    if (id >= 0) {
      flush_unk();
      ids.push_back(id);
      lengths.push_back(len);
      continue;
    }
    if (byte_fallback_) {
      std::vector<int> bytes;
      for (size_t k = start; k < i; ++k) {
        char name[8];
        std::snprintf(name, sizeof name, "<0x%02X>", static_cast<unsigned char>(piece[k]));
        bytes.push_back(token_ids_.find(name));
      }
      if (std::find(bytes.begin(), bytes.end(), -1) == bytes.end()) {
        // Hugging Face leaves a pending unk pending here, so it lands after these bytes.
        for (int b : bytes) {
          ids.push_back(b);
          lengths.push_back(1);
        }
        continue;
      }
    }
    if (unk_id_ < 0) continue;
    if (!fuse_unk_) flush_unk();
    pending_unk_len += len;
  }
  flush_unk();
}

void BpeModel::merge(std::vector<int>& ids, std::vector<int>& lengths) const {
  const int n = static_cast<int>(ids.size());
  if (n < 2) return;
  struct Candidate {
    int rank, pos, new_id;
    bool operator<(const Candidate& o) const { return rank != o.rank ? rank > o.rank : pos > o.pos; }
  };
  thread_local std::vector<Candidate> heap;
  thread_local std::vector<int> prev, next;
  heap.clear();
  prev.resize(static_cast<size_t>(n));
  next.resize(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) {
    prev[i] = i - 1;
    next[i] = i + 1 < n ? i + 1 : -1;
    if (i + 1 < n)
      if (const MergeInfo* m = find_merge(ids[i], ids[i + 1])) heap.push_back({m->rank, i, m->new_id});
  }
  std::make_heap(heap.begin(), heap.end());
  while (!heap.empty()) {
    std::pop_heap(heap.begin(), heap.end());
    const Candidate top = heap.back();
    heap.pop_back();
    const int pos = top.pos, right = next[pos];
    if (lengths[pos] == 0 || right < 0) continue;
    const MergeInfo* current = find_merge(ids[pos], ids[right]);
    if (!current || current->new_id != top.new_id) continue;  // stale entry
    ids[pos] = top.new_id;
    lengths[pos] += lengths[right];
    lengths[right] = 0;
    next[pos] = next[right];
    if (next[pos] >= 0) prev[next[pos]] = pos;
    if (prev[pos] >= 0)
      if (const MergeInfo* m = find_merge(ids[prev[pos]], ids[pos])) {
        heap.push_back({m->rank, prev[pos], m->new_id});
        std::push_heap(heap.begin(), heap.end());
      }
    if (next[pos] >= 0)
      if (const MergeInfo* m = find_merge(ids[pos], ids[next[pos]])) {
        heap.push_back({m->rank, pos, m->new_id});
        std::push_heap(heap.begin(), heap.end());
      }
  }
  size_t kept = 0;
  for (int i = 0; i < n; ++i)
    if (lengths[i] > 0) ids[kept++] = ids[i];
  ids.resize(kept);
}

bool BpeModel::cache_lookup(std::string_view piece, size_t hash, std::vector<int>& out) const {
  CacheShard& shard = cache_[hash % kCacheShards];
  std::lock_guard<std::mutex> lock(shard.mutex);
  if (shard.entries.empty()) return false;
  const CacheEntry& e = shard.entries[(hash / kCacheShards) % kCacheSlotsPerShard];
  if (e.hash != hash || e.key != piece) return false;
  out.insert(out.end(), e.ids.begin(), e.ids.end());
  return true;
}

void BpeModel::cache_store(std::string_view piece, size_t hash, const std::vector<int>& ids) const {
  CacheShard& shard = cache_[hash % kCacheShards];
  std::lock_guard<std::mutex> lock(shard.mutex);
  // A shard's slots are made on its first store: a model that encodes little (a tokenizer
  // loaded to be checked, one fuzz input) allocates a few of them, not all 2 MiB.
  if (shard.entries.empty()) shard.entries.resize(kCacheSlotsPerShard);
  CacheEntry& e = shard.entries[(hash / kCacheShards) % kCacheSlotsPerShard];
  e.hash = hash;
  e.key.assign(piece);
  e.ids = ids;
}

void BpeModel::tokenize(std::string_view piece, std::vector<int>& out) const {
  if (piece.empty()) return;
  if (ignore_merges_) {
    const int id = token_ids_.find(piece);
    if (id >= 0) {
      out.push_back(id);
      return;
    }
  }
  const bool cacheable = piece.size() < kMaxCachedBytes;
  const size_t hash = cacheable ? std::hash<std::string_view>{}(piece) : 0;
  if (cacheable && cache_lookup(piece, hash, out)) return;
  thread_local std::vector<int> ids, lengths;
  ids.clear();
  lengths.clear();
  initial_symbols(piece, ids, lengths);
  merge(ids, lengths);
  if (cacheable) cache_store(piece, hash, ids);
  out.insert(out.end(), ids.begin(), ids.end());
}

}  // namespace grpo::tok
