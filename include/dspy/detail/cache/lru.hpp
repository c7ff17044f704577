// A bounded map that forgets its least recently used entry first. Not synchronized: the owner locks.
#pragma once

#include <cstddef>
#include <list>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>

namespace dspy::detail {

template <class V>
class LruMap {
 public:
  explicit LruMap(std::size_t capacity) : capacity_(capacity) {}

  /// The value under `key`, which becomes the most recently used.
  [[nodiscard]] std::optional<V> get(const std::string& key) {
    auto it = index_.find(key);
    if (it == index_.end()) return std::nullopt;
    items_.splice(items_.begin(), items_, it->second);
    return it->second->second;
  }

  void put(const std::string& key, V value) {
    if (capacity_ == 0) return;
    if (auto it = index_.find(key); it != index_.end()) {
      it->second->second = std::move(value);
      items_.splice(items_.begin(), items_, it->second);
      return;
    }
    if (items_.size() == capacity_) {
      index_.erase(items_.back().first);
      items_.pop_back();
    }
    items_.emplace_front(key, std::move(value));
    index_.emplace(key, items_.begin());
  }

  [[nodiscard]] std::size_t size() const noexcept { return items_.size(); }

  void clear() noexcept {
    index_.clear();
    items_.clear();
  }

 private:
  using Items = std::list<std::pair<std::string, V>>;
  std::size_t capacity_;
  Items items_;  // most recently used first
  std::unordered_map<std::string, typename Items::iterator> index_;
};

}  // namespace dspy::detail
