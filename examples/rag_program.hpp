// The RAG program of the examples: write a search query, retrieve passages with a keyword
// retriever, answer with ChainOfThought from them. A module is a described struct of predictors
// plus code; its predictors are found by path.
#pragma once

#include <string>
#include <string_view>
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
