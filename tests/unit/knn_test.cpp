// dspy::KNN and dspy::KNNFewShot: the nearest train examples by embedding, and the demos a
// call of the compiled program bootstraps from them.
#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include <dspy/predict/knn.hpp>
#include <dspy/predict/predict.hpp>
#include <dspy/teleprompt/knn_fewshot.hpp>
#include <dspy/testing/hash_embedding.hpp>
#include <dspy/testing/scripted_lm.hpp>
#include <gtest/gtest.h>

namespace knn_test {

struct Capital {
  static constexpr std::string_view instructions = "Name the capital.";
  struct Input {
    std::string country;
    std::string hint;
  };
  struct Output {
    std::string answer;
  };
};

dspy::Example<Capital> example(std::string country, std::string hint, std::string answer) {
  return {.input = {std::move(country), std::move(hint)}, .labels = {std::move(answer)}};
}

std::vector<dspy::Example<Capital>> trainset() {
  return {example("France", "river Seine city of lights", "Paris"),
          example("Japan", "island nation of the rising sun", "Tokyo"),
          example("Italy", "ancient Roman empire city", "Rome"),
          example("Kenya", "east African savanna safari", "Nairobi"),
          example("Peru", "Andes mountains Inca empire", "Lima"),
          example("Egypt", "Nile river pyramids desert", "Cairo")};
}

dspy::Embedder hashing() { return dspy::Embedder(dspy::testing::hash_embedder(128)); }

float dot(const std::vector<float>& a, const std::vector<float>& b) {
  float s = 0;
  for (std::size_t i = 0; i < a.size(); ++i) s += a[i] * b[i];
  return s;
}

TEST(KNN, EmbedsInputsAsDspyWritesThem) {
  std::vector<std::string> seen;
  dspy::Embedder recording([&](const std::vector<std::string>& texts) {
    seen.insert(seen.end(), texts.begin(), texts.end());
    return std::vector<std::vector<float>>(texts.size(), std::vector<float>{1.0F});
  });
  auto knn = dspy::KNN<Capital>::build(1, {example("France", "Seine", "Paris")}, recording);
  ASSERT_TRUE(knn) << knn.error().message();
  ASSERT_TRUE((*knn)({"Spain", "Madrid?"}));
  EXPECT_EQ(seen, (std::vector<std::string>{"country: France | hint: Seine", "country: Spain | hint: Madrid?"}));
}

TEST(KNN, PicksTheNearestExamplesNearestFirst) {
  const auto train = trainset();
  auto knn = dspy::KNN<Capital>::build(3, train, hashing());
  ASSERT_TRUE(knn) << knn.error().message();
  const Capital::Input query{"Egypt", "pyramids by the Nile river"};
  auto found = (*knn)(query);
  ASSERT_TRUE(found) << found.error().message();
  ASSERT_EQ(found->size(), 3u);
  // The reference: every example scored by the same embedding, highest first.
  const auto q = dspy::testing::hash_embedding(dspy::detail::knn_text(query), 128);
  std::vector<std::pair<float, std::size_t>> scored;
  for (std::size_t i = 0; i < train.size(); ++i)
    scored.emplace_back(-dot(q, dspy::testing::hash_embedding(dspy::detail::knn_text(train[i].input), 128)), i);
  std::sort(scored.begin(), scored.end());
  for (std::size_t r = 0; r < 3; ++r) EXPECT_EQ((*found)[r].input.country, train[scored[r].second].input.country) << r;
  EXPECT_EQ(found->front().input.country, "Egypt");

  auto async = dspy::detail::sync_wait(knn->acall({"Peru", "Inca mountains"}));
  ASSERT_TRUE(async);
  EXPECT_EQ(async->front().labels.answer, "Lima");
  EXPECT_EQ(dspy::KNN<Capital>::build(0, train, hashing()).error().code(), dspy::Errc::config);
}

TEST(KNNFewShot, EachCallBootstrapsDemosFromItsNearestExamples) {
  auto lm = std::make_shared<dspy::testing::ScriptedLM>(
      std::vector<std::string>{"[[ ## answer ## ]]\nteacher answer\n\n[[ ## completed ## ]]"});
  lm->repeat_last();
  dspy::Predict<Capital> student;
  student.set_lm(lm);
  auto optimizer = dspy::KNNFewShot<Capital>::build(2, trainset(), hashing());
  ASSERT_TRUE(optimizer) << optimizer.error().message();
  const auto program = optimizer->compile(student);
  EXPECT_TRUE(program.student.demos.empty());

  const Capital::Input query{"Japan", "rising sun island"};
  auto compiled = program.compiled_for(query);
  ASSERT_TRUE(compiled) << compiled.error().message();
  const auto neighbours = (*optimizer->knn()(query));
  ASSERT_EQ(compiled->demos.size(), 2u);
  for (std::size_t i = 0; i < 2; ++i) {
    // Bootstrapped (every run passes without a metric, as in DSPy): the teacher's answer.
    EXPECT_TRUE(compiled->demos[i].augmented);
    EXPECT_EQ(compiled->demos[i].input.country, neighbours[i].input.country);
    EXPECT_EQ(compiled->demos[i].output.answer, "teacher answer");
  }
  EXPECT_EQ(compiled->demos[0].input.country, "Japan");

  // A call: the demos reach the prompt; the far examples do not.
  const std::size_t before = lm->calls();
  auto answer = program(query);
  ASSERT_TRUE(answer) << answer.error().message();
  EXPECT_EQ(answer->answer, "teacher answer");
  EXPECT_EQ(lm->calls() - before, 3u);  // two teacher runs, then the answer
  std::string prompt;
  const auto requests = lm->requests();
  for (const auto& m : requests.back().messages) prompt += m.content.text();
  EXPECT_NE(prompt.find(neighbours[1].input.hint), std::string::npos);
  for (const auto& e : trainset())
    if (e.input.country != neighbours[0].input.country && e.input.country != neighbours[1].input.country) {
      EXPECT_EQ(prompt.find(e.input.hint), std::string::npos) << e.input.country;
    }
  EXPECT_EQ(dspy::named_predictors(program).size(), 1u);
}

}  // namespace knn_test
