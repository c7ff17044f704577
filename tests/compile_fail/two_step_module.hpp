// A module whose second predictor is missing from its description (unless
// DSPY_COMPILE_FAIL_CONTROL): shared by the undescribed_* tests, one per way of using a module.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/describe/class.hpp>

#include <dspy/predict/predict.hpp>
#include <dspy/predict/module_call.hpp>

struct QA {
  struct Input {
    std::string question;
  };
  struct Output {
    std::string answer;
  };
};

struct TwoStep {
  using Input = QA::Input;
  dspy::Predict<QA> draft;
  dspy::Predict<QA> refine;  // forgotten in the description below

  boost::asio::awaitable<dspy::Result<dspy::Predicted<QA::Output>>> forward(Input input) const {
    auto pending = dspy::acall(draft, input);  // not inside co_await: GCC 12 bug 100611
    auto first = co_await std::move(pending);
    if (!first) co_return first;
    auto again = dspy::acall(refine, {.question = input.question + " " + (*first)->answer});
    co_return co_await std::move(again);
  }
};
#ifdef DSPY_COMPILE_FAIL_CONTROL
BOOST_DESCRIBE_STRUCT(TwoStep, (), (draft, refine))
#else
BOOST_DESCRIBE_STRUCT(TwoStep, (), (draft))
#endif
