// expect-error: dspy::benchmark: the program must be copyable
#include <memory>

#include <boost/asio/awaitable.hpp>
#include <boost/describe/class.hpp>

#include <dspy/evaluate/benchmark.hpp>
#include <dspy/evaluate/metrics.hpp>
#include <dspy/predict/predict.hpp>

struct QA {
  struct Input {
    std::string question;
  };
  struct Output {
    std::string answer;
  };
};

// A module holding a move-only member.
struct Answerer {
  using Input = QA::Input;
  dspy::Predict<QA> predict;
#ifdef DSPY_COMPILE_FAIL_CONTROL
  std::shared_ptr<int> index = std::make_shared<int>(0);
#else
  std::unique_ptr<int> index = std::make_unique<int>(0);
#endif
  boost::asio::awaitable<dspy::Result<dspy::Predicted<QA::Output>>> forward(Input in) const {
    auto call = predict.acall(std::move(in));
    co_return co_await std::move(call);
  }
};
BOOST_DESCRIBE_STRUCT(Answerer, (), (predict))

int main() {
  const Answerer program;
  const std::vector<dspy::Example<QA>> devset;
  return dspy::benchmark(program, devset, dspy::answer_exact_match, {}) ? 0 : 1;
}
