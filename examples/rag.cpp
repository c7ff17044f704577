// RAG: retrieve passages from a small shipped corpus, then answer with ChainOfThought.
// A module is a described struct of predictors plus code; its predictors are found by path.
#include <fstream>
#include <iostream>
#include <sstream>

#include <boost/describe/class.hpp>
#include <dspy/dspy.hpp>

#include "example_lm.hpp"
#include "keyword_retriever.hpp"

struct GenerateQuery {
  static constexpr std::string_view instructions = "Write a short search query for the question.";
  struct Input {
    std::string question;
  };
  struct Output {
    std::string query;
  };
};

struct AnswerFromContext {
  static constexpr std::string_view instructions = "Answer the question using only the given context.";
  struct Input {
    std::vector<std::string> context;
    std::string question;
  };
  struct Output {
    std::string answer;
  };
  static constexpr auto docs = dspy::docs({{"answer", "a short answer"}});
};

struct RAG {
  dspy::Predict<GenerateQuery> generate_query;
  dspy::ChainOfThought<AnswerFromContext> answer;
  KeywordRetriever retriever;

  using Input = GenerateQuery::Input;
  boost::asio::awaitable<dspy::Result<dspy::Predicted<dspy::ChainOfThought<AnswerFromContext>::Output>>> forward(
      Input in) const {
    auto query_call = generate_query.acall({in.question});
    auto query = co_await std::move(query_call);
    if (!query) co_return query.error();
    auto answer_call = answer.forward({retriever.search(query->query), in.question});
    co_return co_await std::move(answer_call);
  }
};
BOOST_DESCRIBE_STRUCT(RAG, (), (generate_query, answer, retriever))

int main(int argc, char** argv) {
  const std::string corpus_path = argc > 1 ? argv[1] : DSPY_EXAMPLES_DATA "/corpus.txt";
  std::ifstream corpus(corpus_path);
  if (!corpus) {
    std::cerr << "cannot read " << corpus_path << "\n";
    return 1;
  }
  RAG rag;
  for (std::string line; std::getline(corpus, line);)
    if (!line.empty()) rag.retriever.passages.push_back(line);

  auto lm = example_lm("rag");
  dspy::set_lm(rag, lm.lm);

  std::cout << "predictors:";
  for (const auto& [path, p] : dspy::named_predictors(rag)) std::cout << ' ' << path;
  std::cout << "\n";

  const auto r = dspy::call(rag, {"What is the capital of Australia?"});
  if (!r) {
    std::cerr << "error: " << r.error().message() << "\n";
    return 1;
  }
  std::cout << "answer:    " << r->answer << "\nreasoning: " << r->reasoning << "\n\n";
  std::cout << "the answer step's call:\n";
  dspy::inspect_history(1);
}
