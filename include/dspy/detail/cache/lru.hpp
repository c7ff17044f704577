// A map bounded by count and by bytes that forgets its least recently used entries first. Not
// synchronized: the owner locks.
#pragma once

#include <cstddef>
#include <list>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>

namespace dspy::detail {

/// `Weigh` tells what a value holds in memory, in bytes: `std::size_t(const V&)`.
template <class V, class Weigh>
class LruMap {
 public:
  LruMap(std::size_t capacity, std::size_t max_bytes) : capacity_(capacity), max_bytes_(max_bytes) {}

  /// The value under `key`, which becomes the most recently used.
  [[nodiscard]] std::optional<V> get(const std::string& key) {
    auto it = index_.find(key);
    if (it == index_.end()) return std::nullopt;
    items_.splice(items_.begin(), items_, it->second);
    return it->second->value;
  }

  /// Keeps `value` under `key` as the most recently used, unless it alone is over max_bytes.
  void put(const std::string& key, V value) {
    if (auto it = index_.find(key); it != index_.end()) {
      bytes_ -= it->second->bytes;
      items_.erase(it->second);
      index_.erase(it);
    }
    const std::size_t bytes = sizeof(Item) + 2 * key.size() + Weigh{}(value);
    if (capacity_ == 0 || bytes > max_bytes_) return;
    items_.push_front({key, std::move(value), bytes});
    index_.emplace(key, items_.begin());
    bytes_ += bytes;
    while (items_.size() > capacity_ || bytes_ > max_bytes_) {
      bytes_ -= items_.back().bytes;
      index_.erase(items_.back().key);
      items_.pop_back();
    }
  }

  [[nodiscard]] std::size_t size() const noexcept { return items_.size(); }
  /// What the entries hold: their values' weights, keys and bookkeeping.
  [[nodiscard]] std::size_t bytes() const noexcept { return bytes_; }

  void clear() noexcept {
    index_.clear();
    items_.clear();
    bytes_ = 0;
  }

 private:
  struct Item {
    std::string key;
    V value;
    std::size_t bytes;
  };
  using Items = std::list<Item>;
  std::size_t capacity_;
  std::size_t max_bytes_;
  std::size_t bytes_ = 0;
  Items items_;  // most recently used first
  std::unordered_map<std::string, typename Items::iterator> index_;
};

}  // namespace dspy::detail
