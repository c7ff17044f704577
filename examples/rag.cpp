// RAG: retrieve passages from a small shipped corpus by their embeddings (the demo server's
// /v1/embeddings offline, DSPY_EMBEDDER online), then answer with ChainOfThought. A module is a
// described struct of predictors plus code; its predictors are found by path.
#include <fstream>
#include <iostream>
#include <sstream>

#include <dspy/all.hpp>

#include "example_lm.hpp"
#include "rag_program.hpp"

int main(int argc, char** argv) {
  const std::string corpus_path = argc > 1 ? argv[1] : DSPY_EXAMPLES_DATA "/corpus.txt";
  std::ifstream corpus(corpus_path);
  if (!corpus) {
    std::cerr << "cannot read " << corpus_path << "\n";
    return 1;
  }
  std::vector<std::string> passages;
  for (std::string line; std::getline(corpus, line);)
    if (!line.empty()) passages.push_back(line);

  auto lm = example_lm("rag");
  auto embedder = example_embedder(lm.offline() ? &*lm.server : nullptr);
  auto retriever = dspy::retrievers::Embeddings::build(passages, embedder.embedder, {.k = 3});
  if (!retriever) {
    std::cerr << "cannot index the corpus: " << retriever.error().message() << "\n";
    return 1;
  }
  RAG rag;
  rag.retriever.embeddings = std::move(retriever).value();
  dspy::set_lm(rag, lm.lm);

  std::cout << "predictors:";
  for (const auto& [path, p] : dspy::named_predictors(rag)) std::cout << ' ' << path;
  std::cout << "\n";

  const std::string question = "What is the capital of Australia?";
  if (const auto top = (*rag.retriever.embeddings)(question)) {
    std::cout << "nearest passages to the question:\n";
    for (std::size_t i = 0; i < top->passages.size(); ++i)
      std::cout << "  " << top->scores[i] << "  " << top->passages[i] << "\n";
  }
  const auto r = dspy::call(rag, {question});
  if (!r) {
    std::cerr << "error: " << r.error().message() << "\n";
    return 1;
  }
  std::cout << "answer:    " << r->answer << "\nreasoning: " << r->reasoning << "\n\n";
  std::cout << "the answer step's call:\n";
  dspy::inspect_history(1);
}
