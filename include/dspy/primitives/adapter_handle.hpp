// AdapterHandle: a shared reference to an adapter, held by settings and predictors (the adapter
// interface itself is adapters/base.hpp).
#pragma once

#include <concepts>
#include <memory>
#include <type_traits>
#include <utility>

namespace dspy {

class Adapter;

namespace detail {
// An options struct that names the adapter it configures (`using adapter_type = ...`), as
// dspy::ChatAdapter does: it stays an aggregate, so `ChatAdapter{.use_json_adapter_fallback = false}`
// works, while the adapter behind it is a dspy::Adapter.
template <class T>
concept NamesAdapter = requires { typename T::adapter_type; };
}  // namespace detail

/// A shared, immutable adapter; null means the default (dspy::ChatAdapter). Converts from any
/// adapter value: a class derived from dspy::Adapter, or an adapter's options struct such as
/// `dspy::ChatAdapter{.use_json_adapter_fallback = false}` (copied), or a shared_ptr (shared).
class AdapterHandle {
 public:
  AdapterHandle() = default;
  AdapterHandle(std::shared_ptr<const Adapter> adapter) : adapter_(std::move(adapter)) {}  // NOLINT: implicit by design
  template <class A>
    requires std::derived_from<A, Adapter>
  AdapterHandle(std::shared_ptr<A> adapter) : adapter_(std::move(adapter)) {}  // NOLINT: implicit by design
  template <class A, class T = std::remove_cvref_t<A>>
    requires(std::derived_from<T, Adapter> || detail::NamesAdapter<T>)
  AdapterHandle(A&& adapter) : adapter_(share(std::forward<A>(adapter))) {}  // NOLINT: implicit by design

  [[nodiscard]] const Adapter* get() const noexcept { return adapter_.get(); }
  const Adapter* operator->() const noexcept { return adapter_.get(); }
  const Adapter& operator*() const noexcept { return *adapter_; }
  explicit operator bool() const noexcept { return adapter_ != nullptr; }
  void reset() noexcept { adapter_.reset(); }
  friend bool operator==(const AdapterHandle& a, const AdapterHandle& b) noexcept { return a.adapter_ == b.adapter_; }

 private:
  template <class A, class T = std::remove_cvref_t<A>>
  static std::shared_ptr<const Adapter> share(A&& adapter) {
    if constexpr (std::derived_from<T, Adapter>) return std::make_shared<const T>(std::forward<A>(adapter));
    else return std::make_shared<const typename T::adapter_type>(std::forward<A>(adapter));
  }

  std::shared_ptr<const Adapter> adapter_;
};

}  // namespace dspy
