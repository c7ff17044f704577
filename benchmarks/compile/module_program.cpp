// A typical user program: a 3-predictor module over 5 signatures, run with batch and evaluated.
#include <cstdio>
#include <string>
#include <vector>

#include <dspy/dspy.hpp>
#include <dspy/evaluate.hpp>

enum class Priority { low, medium, high };
BOOST_DESCRIBE_ENUM(Priority, low, medium, high)

struct Classify {
  static constexpr std::string_view instructions = "Classify the support ticket.";
  struct Input { std::string ticket; };
  struct Output { std::string category; Priority priority; };
};
struct Extract {
  struct Input { std::string ticket; std::string category; };
  struct Output { std::vector<std::string> entities; std::optional<std::string> order_id; };
};
struct Draft {
  struct Input { std::string ticket; std::vector<std::string> entities; };
  struct Output { std::string reply; };
};
struct Ticket {
  struct Input { std::string ticket; };
  struct Output { std::string reply; Priority priority; };
};
struct Review {
  struct Input { std::string reply; };
  struct Output { bool approved; double confidence; };
};

struct Support {
  using Input = Ticket::Input;
  dspy::Predict<Classify> classify;
  dspy::ChainOfThought<Extract> extract;
  dspy::Predict<Draft> draft;

  dspy::asio::awaitable<dspy::Result<Ticket::Output>> forward(Input in) const {
    auto c = co_await classify.acall({.ticket = in.ticket});
    if (!c) co_return c.error();
    auto e = co_await extract.forward({.ticket = in.ticket, .category = c->category});
    if (!e) co_return e.error();
    auto d = co_await draft.acall({.ticket = in.ticket, .entities = e->entities});
    if (!d) co_return d.error();
    co_return Ticket::Output{.reply = d->reply, .priority = c->priority};
  }
};
BOOST_DESCRIBE_STRUCT(Support, (), (classify, extract, draft))

int main() {
  dspy::configure({.lm = dspy::LM("openai/gpt-4o-mini")});
  Support program;
  std::vector<Ticket::Input> inputs{{"My order 42 never arrived"}, {"Refund please"}};
  auto results = dspy::batch(program, inputs, {.concurrency = 8});
  std::vector<dspy::Example<Ticket>> devset;
  for (auto& in : inputs) devset.push_back({.input = in, .labels = {.reply = "", .priority = Priority::high}});
  const auto metric = [](const dspy::Example<Ticket>& ex, const Ticket::Output& out) {
    return ex.labels.priority == out.priority;
  };
  auto report = dspy::evaluate(program, devset, metric, {.concurrency = 8});
  std::printf("%zu %f\n", results.size(), report.score);
  dspy::Predict<Review> review;
  auto r = review({.reply = "ok"});
  return r ? 0 : 1;
}
