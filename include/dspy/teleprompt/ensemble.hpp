// dspy::Ensemble: one program that runs several programs of the same type on each input and
// reduces their outputs to one, e.g. with dspy::majority (DSPy's teleprompt Ensemble).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <random>
#include <type_traits>
#include <utility>
#include <vector>

#include <boost/asio/awaitable.hpp>

#include "../predict/aggregation.hpp"
#include "../predict/parallel.hpp"
#include "../primitives/error.hpp"
#include "labeled_few_shot.hpp"
#include "../primitives/module.hpp"
#include "../predict/module_call.hpp"

namespace dspy {

template <AsyncCallable M>
class EnsembleProgram {
 public:
  using Input = typename M::Input;
  using result_type = module_result_t<M>;
  /// What each member returns on success (e.g. Predicted<Output>).
  using value_type = typename result_type::value_type;
  /// Reduces the members' successful outputs (never empty) to one.
  using ReduceFn = std::function<result_type(std::vector<value_type>)>;

  /// The members, as compiled; each call runs all of them or a sample of `size`.
  std::vector<M> programs;

  EnsembleProgram(std::vector<M> programs_, ReduceFn reduce_fn, std::optional<std::size_t> size, std::uint64_t seed)
      : programs(std::move(programs_)), reduce_fn_(std::move(reduce_fn)), size_(size), seed_(seed) {}

  /// Runs the chosen members concurrently on the caller's executor and reduces what succeeded;
  /// failed members are left out, and only when all fail is the first member's error returned.
  asio::awaitable<result_type> forward(Input input) const {
    if (programs.empty()) co_return Error(Errc::config, "Ensemble: there are no programs to run");
    std::vector<Member> members;
    for (std::size_t i : chosen()) members.push_back({i, input});
    const Dispatch dispatch{this};
    auto pending = abatch(dispatch, std::move(members), {.progress = false});  // not inside co_await: GCC 12 bug 100611
    std::vector<result_type> results = co_await std::move(pending);
    std::vector<value_type> ok;
    for (auto& r : results)
      if (r) ok.push_back(std::move(*r));
    if (ok.empty()) co_return std::move(results.front());
    try {
      co_return reduce_fn_(std::move(ok));
    } catch (const std::exception& e) {
      co_return Error(Errc::config, std::string("Ensemble: reduce_fn threw: ") + e.what());
    }
  }

  /// Blocking call.
  result_type operator()(const Input& input) const { return dspy::call(*this, input); }

 private:
  struct Member {
    std::size_t index;
    Input input;
  };
  // Runs one member: the batch runner's module, so members run as concurrent calls.
  struct Dispatch {
    using Input = Member;
    static constexpr bool transparent_module = true;  // a runner, not a module of the program
    const EnsembleProgram* self;
    auto forward(Member m) const { return dspy::acall(self->programs[m.index], std::move(m.input)); }
  };

  // All members, or `size` of them sampled afresh on each call (call k uses seed + k), as DSPy
  // samples on each forward.
  std::vector<std::size_t> chosen() const {
    if (!size_ || *size_ >= programs.size()) {
      std::vector<std::size_t> all(programs.size());
      for (std::size_t i = 0; i < all.size(); ++i) all[i] = i;
      return all;
    }
    std::mt19937_64 rng(seed_ + calls_->fetch_add(1));
    return detail::sample_indices(rng, programs.size(), *size_);
  }

  ReduceFn reduce_fn_;
  std::optional<std::size_t> size_;
  std::uint64_t seed_;
  std::shared_ptr<std::atomic<std::uint64_t>> calls_ = std::make_shared<std::atomic<std::uint64_t>>(0);
};

/// The reduce_fn of DSPy's `Ensemble(reduce_fn=dspy.majority)`: the member prediction whose last
/// output field is the most common after normalization (ties: the value seen first), as returned
/// by the first member that gave it.
struct MajorityVote {
  MajorityNormalize normalize = default_normalize;

  template <class O>
  Result<Predicted<O>> operator()(std::vector<Predicted<O>> outs) const {
    std::vector<O> values;
    values.reserve(outs.size());
    for (const auto& o : outs) values.push_back(o.value());
    auto i = detail::majority_index<O, field_count<O> - 1>(std::span<const O>(values), normalize);
    if (!i) return std::move(i).error();
    return std::move(outs[*i]);
  }
};

/// `Ensemble{.size = 3, .seed = 1}.compile(programs, dspy::MajorityVote{})`, or any reduce_fn
/// over the members' outputs.
struct Ensemble {
  /// Members run per call; unset runs them all.
  std::optional<std::size_t> size{};
  std::uint64_t seed = 0;

  template <AsyncCallable M, class Reduce>
  EnsembleProgram<M> compile(std::vector<M> programs, Reduce reduce_fn) const {
    using P = EnsembleProgram<M>;
    static_assert(std::is_invocable_r_v<typename P::result_type, Reduce&, std::vector<typename P::value_type>>,
                  "dspy::Ensemble: reduce_fn must take std::vector<value_type> (the members' outputs) and return "
                  "the members' result type, e.g. Result<Predicted<Output>>.");
    return P(std::move(programs), typename P::ReduceFn(std::move(reduce_fn)), size, seed);
  }
};

}  // namespace dspy
