// dspy::KNNFewShot: a program whose demos are chosen per input, at call time: the k train examples
// nearest to the input (dspy::KNN) are bootstrapped into demos with BootstrapFewShot, and the
// program so compiled answers the input (DSPy's teleprompt.KNNFewShot).
#pragma once

#include <cstddef>
#include <optional>
#include <type_traits>
#include <utility>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/describe/class.hpp>

#include "../clients/embedder.hpp"
#include "../predict/knn.hpp"
#include "../predict/module_call.hpp"
#include "../primitives/error.hpp"
#include "../signatures/example.hpp"
#include "bootstrap.hpp"

namespace dspy {

/// DSPy's BootstrapFewShot without a metric: every teacher run passes.
struct EveryRunPasses {
  template <class E, class P>
  bool operator()(const E&, const P&) const noexcept {
    return true;
  }
};

/// What KNNFewShot::compile returns: the student (reset) and, per call, the demos bootstrapped
/// from the input's nearest train examples. Its predictors are the student's, under `student`.
template <AsyncCallable M, Signature Sig, class F>
class KNNFewShotProgram {
 public:
  using Input = typename M::Input;

  /// The program as compiled: no demos of its own (each call compiles a copy with demos).
  M student;

  KNNFewShotProgram(M student_, KNN<Sig> knn, BootstrapFewShot<F> bootstrap, std::optional<M> teacher)
      : student(std::move(student_)), knn_(std::move(knn)), bootstrap_(std::move(bootstrap)), teacher_(std::move(teacher)) {}

  /// The input's k nearest train examples, bootstrapped into demos of a copy of the student,
  /// which then answers. The bootstrap's teacher runs block this thread, as in DSPy.
  asio::awaitable<module_result_t<M>> forward(Input input) const { return run(this, std::move(input)); }

  /// Blocking call.
  module_result_t<M> operator()(const Input& input) const { return dspy::call(*this, input); }

  /// The demos a call with `input` would give the student's predictors: the compiled copy.
  Result<M> compiled_for(const Input& input) const {
    auto neighbours = knn_(input);
    if (!neighbours) return std::move(neighbours).error();
    return bootstrap_.compile(student, *neighbours, teacher_ ? &*teacher_ : nullptr);
  }

  BOOST_DESCRIBE_CLASS(KNNFewShotProgram, (), (student), (), ())

 private:
  static asio::awaitable<module_result_t<M>> run(const KNNFewShotProgram* self, Input input) {
    auto finding = self->knn_.acall(input);  // not inside co_await: GCC 12 PR 100611
    auto neighbours = co_await std::move(finding);
    if (!neighbours) co_return std::move(neighbours).error();
    Result<M> compiled = self->bootstrap_.compile(self->student, *neighbours, self->teacher_ ? &*self->teacher_ : nullptr);
    if (!compiled) co_return std::move(compiled).error();
    auto answering = dspy::acall(*compiled, std::move(input));
    co_return co_await std::move(answering);
  }

  KNN<Sig> knn_;
  BootstrapFewShot<F> bootstrap_;
  std::optional<M> teacher_;
};

/// `auto opt = dspy::KNNFewShot<QA>::build(3, trainset, embedder);` then
/// `auto program = opt->compile(student);`. DSPy's KNNFewShot(k, trainset, vectorizer,
/// **few_shot_bootstrap_args): the trainset's inputs are embedded once, here; each call of the
/// compiled program embeds its input, takes the k nearest examples and runs BootstrapFewShot
/// (`metric`, `options`) on them before answering.
template <Signature Sig, class F = EveryRunPasses>
class KNNFewShot {
 public:
  [[nodiscard]] static Result<KNNFewShot> build(std::size_t k, std::vector<Example<Sig>> trainset, Embedder vectorizer,
                                                BootstrapFewShotOptions options = {}, F metric = {}) {
    auto knn = KNN<Sig>::build(k, std::move(trainset), std::move(vectorizer));
    if (!knn) return std::move(knn).error();
    return KNNFewShot(std::move(knn).value(), BootstrapFewShot<F>(std::move(metric), options));
  }

  KNNFewShot(KNN<Sig> knn, BootstrapFewShot<F> bootstrap) : knn_(std::move(knn)), bootstrap_(std::move(bootstrap)) {}

  template <AsyncCallable M>
  [[nodiscard]] KNNFewShotProgram<M, Sig, F> compile(const M& student, const M* teacher = nullptr) const {
    static_assert(std::is_same_v<typename M::Input, typename Sig::Input>,
                  "dspy::KNNFewShot: the program's Input must be the trainset's Sig::Input (its neighbours are "
                  "found by the program's input fields): compile a program of the trainset's signature.");
    return {reset_copy(student), knn_, bootstrap_, teacher ? std::optional<M>(*teacher) : std::nullopt};
  }

  [[nodiscard]] const KNN<Sig>& knn() const noexcept { return knn_; }

 private:
  KNN<Sig> knn_;
  BootstrapFewShot<F> bootstrap_;
};

}  // namespace dspy
