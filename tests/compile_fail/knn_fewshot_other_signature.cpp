// expect-error: KNNFewShot: the program's Input must be the trainset's Sig::Input
#include <dspy/predict/predict.hpp>
#include <dspy/teleprompt/knn_fewshot.hpp>

struct QA {
  struct Input {
    std::string question;
  };
  struct Output {
    std::string answer;
  };
};

struct Summarize {
  struct Input {
    std::string text;
  };
  struct Output {
    std::string answer;
  };
};

int main() {
#ifdef DSPY_COMPILE_FAIL_CONTROL
  dspy::Predict<QA> program;
#else
  dspy::Predict<Summarize> program;
#endif
  auto optimizer = dspy::KNNFewShot<QA>::build(2, {}, dspy::Embedder([](const std::vector<std::string>& texts) {
                                                 return std::vector<std::vector<float>>(texts.size(), {1.0F});
                                               }));
  if (!optimizer) return 1;
  auto compiled = optimizer->compile(program);
  return static_cast<int>(compiled.student.demos.size());
}
