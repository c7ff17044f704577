// The RAG program of the examples: write a search query, retrieve passages (by embeddings with
// dspy::retrievers::Embeddings, or by keyword overlap), answer with ChainOfThought from them. A
// module is a described struct of predictors plus code; its predictors are found by path.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/describe/class.hpp>
#include <dspy/all.hpp>

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
  static constexpr auto docs = dspy::docs({{"answer", "often between 1 and 5 words, copied from the context"}});
};

// Searches by embeddings when it has them, else by keywords. Not a predictor: the module walk
// skips it.
struct Retriever {
  std::optional<dspy::retrievers::Embeddings> embeddings{};
  KeywordRetriever keywords{};

  boost::asio::awaitable<dspy::Result<std::vector<std::string>>> search(std::string query) const {
    if (!embeddings) co_return keywords.search(query);
    auto pending = embeddings->acall(std::move(query));  // not inside co_await: GCC 12 PR 100611
    auto found = co_await std::move(pending);
    if (!found) co_return std::move(found).error();
    co_return std::move(found->passages);
  }
};

struct RAG {
  dspy::Predict<GenerateQuery> generate_query;
  dspy::ChainOfThought<AnswerFromContext> answer;
  Retriever retriever;

  using Input = GenerateQuery::Input;
  boost::asio::awaitable<dspy::Result<dspy::Predicted<dspy::ChainOfThought<AnswerFromContext>::Output>>> forward(
      Input in) const {
    auto query_call = generate_query.acall({in.question});
    auto query = co_await std::move(query_call);
    if (!query) co_return query.error();
    auto searching = retriever.search(query->query);
    auto passages = co_await std::move(searching);
    if (!passages) co_return std::move(passages).error();
    auto answer_call = answer.forward({std::move(*passages), in.question});
    co_return co_await std::move(answer_call);
  }
};
BOOST_DESCRIBE_STRUCT(RAG, (), (generate_query, answer, retriever))
