#pragma once

#include <cstdint>
#include <cstring>
#include <string_view>
#include <utility>
#include <vector>

namespace Cilium {
namespace Policy {

// A fast hash of short text (addresses are 7 to 45 bytes): 8-byte words folded with a
// multiply, the tail read as the last 8 bytes (overlapping) so there is no byte loop.
inline uint64_t hashShortText(std::string_view text) {
  constexpr uint64_t kMul = 0x9e3779b97f4a7c15ULL;
  const char* p = text.data();
  const size_t n = text.size();
  uint64_t h = (n + 1) * kMul;
  auto fold = [&h](uint64_t word) {
    h = (h ^ word) * kMul;
    h ^= h >> 29;
  };
  if (n >= 8) {
    uint64_t word;
    for (size_t at = 0; at + 8 < n; at += 8) {
      std::memcpy(&word, p + at, 8);
      fold(word);
    }
    std::memcpy(&word, p + n - 8, 8);
    fold(word);
  } else if (n >= 4) {
    uint32_t first, last;
    std::memcpy(&first, p, 4);
    std::memcpy(&last, p + n - 4, 4);
    fold((uint64_t{first} << 32) | last);
  } else if (n > 0) {
    fold((uint64_t{static_cast<unsigned char>(p[0])} << 16) |
         (uint64_t{static_cast<unsigned char>(p[n / 2])} << 8) |
         static_cast<unsigned char>(p[n - 1]));
  }
  h *= kMul;
  return h ^ (h >> 32);
}

// Text keys to small values in one flat array (open addressing, linear probing): a lookup
// is one hash and usually one cache line, with no node to chase. The keys are views: the
// text they point into must outlive the table (the snapshot's policies own it).
template <class Value>
class TextTable {
public:
  void reserve(size_t count) {
    if (count * 2 > slots_.size()) {
      rehash(count * 2);
    }
  }

  const Value* find(std::string_view key) const {
    if (slots_.empty()) {
      return nullptr;
    }
    const uint64_t hash = hashShortText(key);
    for (size_t i = hash & mask_;; i = (i + 1) & mask_) {
      const Slot& slot = slots_[i];
      if (slot.key == nullptr) {
        return nullptr;
      }
      if (slot.hash == hash && slot.length == key.size() &&
          std::memcmp(slot.key, key.data(), key.size()) == 0) {
        return &slot.value;
      }
    }
  }

  // Adds `key` (the view is kept) unless present; returns the value now under it and
  // whether it was added.
  std::pair<const Value*, bool> insert(std::string_view key, const Value& value) {
    if (const Value* found = find(key)) {
      return {found, false};
    }
    if ((size_ + 1) * 2 > slots_.size()) {
      rehash(slots_.empty() ? 16 : slots_.size() * 2);
    }
    const uint64_t hash = hashShortText(key);
    Slot* slot = place(hash);
    slot->hash = hash;
    slot->key = key.data() != nullptr ? key.data() : "";
    slot->length = key.size();
    slot->value = value;
    ++size_;
    return {&slot->value, true};
  }

  size_t size() const { return size_; }

private:
  struct Slot {
    uint64_t hash{0};
    const char* key{nullptr};  // null: empty
    size_t length{0};
    Value value{};
  };

  Slot* place(uint64_t hash) {
    size_t i = hash & mask_;
    while (slots_[i].key != nullptr) {
      i = (i + 1) & mask_;
    }
    return &slots_[i];
  }

  void rehash(size_t at_least) {
    size_t capacity = 16;
    while (capacity < at_least) {
      capacity *= 2;
    }
    std::vector<Slot> old(capacity);
    old.swap(slots_);
    mask_ = capacity - 1;
    for (const Slot& slot : old) {
      if (slot.key != nullptr) {
        *place(slot.hash) = slot;
      }
    }
  }

  std::vector<Slot> slots_;
  size_t mask_{0};
  size_t size_{0};
};

}  // namespace Policy
}  // namespace Cilium
