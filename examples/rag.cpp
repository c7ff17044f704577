// RAG: retrieve passages from a small shipped corpus, then answer with ChainOfThought.
// A module is a described struct of predictors plus code; its predictors are found by path.
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
