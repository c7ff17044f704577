// LMHandle: a shared reference to an LM, held by settings and predictors (the LM interface itself
// is clients/base_lm.hpp).
#pragma once

#include <concepts>
#include <memory>
#include <type_traits>
#include <utility>

namespace dspy {

class BaseLM;

/// A shared reference to an LM. Converts from any BaseLM value (copied) or shared_ptr (shared).
class LMHandle {
 public:
  LMHandle() = default;
  LMHandle(std::shared_ptr<BaseLM> lm) : lm_(std::move(lm)) {}  // NOLINT: implicit by design
  template <class L>
    requires std::derived_from<std::remove_cvref_t<L>, BaseLM>
  LMHandle(L&& lm) : lm_(std::make_shared<std::remove_cvref_t<L>>(std::forward<L>(lm))) {}  // NOLINT
  template <class L>
    requires std::derived_from<L, BaseLM>
  LMHandle(std::shared_ptr<L> lm) : lm_(std::move(lm)) {}  // NOLINT

  [[nodiscard]] BaseLM* get() const noexcept { return lm_.get(); }
  BaseLM* operator->() const noexcept { return lm_.get(); }
  explicit operator bool() const noexcept { return lm_ != nullptr; }
  [[nodiscard]] const std::shared_ptr<BaseLM>& shared() const noexcept { return lm_; }
  friend bool operator==(const LMHandle& a, const LMHandle& b) noexcept { return a.lm_ == b.lm_; }

 private:
  std::shared_ptr<BaseLM> lm_;
};

}  // namespace dspy
