// Examples, datasets, metrics (against DSPy's definitions) and dspy::evaluate.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>

#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <gtest/gtest.h>

#include "golden_signatures.hpp"

namespace evaluate_test {

namespace asio = boost::asio;
namespace fs = std::filesystem;
using golden::QA;

struct Scored {
  struct Input {
    std::string question;
    int level;
  };
  struct Output {
    std::string reasoning;
    int answer;
    std::vector<std::string> tags;
  };
};

// A file under the test's own temporary directory, removed with it.
class Files : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("dspy_eval_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path write(const std::string& name, const std::string& text) {
    const fs::path p = dir_ / name;
    std::ofstream(p, std::ios::binary) << text;
    return p;
  }
  fs::path dir_;
};

// ---- Example ----------------------------------------------------------------------------------------

TEST(Example, PartialLabelsBecomePartialDemos) {
  auto e = dspy::example_from_json<Scored>(boost::json::parse(R"({"question":"q","level":2,"answer":7,"id":"x"})").as_object());
  ASSERT_TRUE(e) << e.error().message();
  EXPECT_TRUE(e->has_label<"answer">());
  EXPECT_FALSE(e->has_label<"reasoning">());
  EXPECT_FALSE(e->has_label<"tags">());
  EXPECT_EQ(e->labels.answer, 7);
  const dspy::Demo<Scored> d = e->demo();
  EXPECT_TRUE(d.has_input(0) && d.has_input(1));
  EXPECT_FALSE(d.has_output(0));
  EXPECT_TRUE(d.has_output(1));
  EXPECT_EQ(boost::json::serialize(dspy::demo_to_json(d)), R"({"question":"q","level":2,"answer":7})");
  EXPECT_EQ(dspy::example_to_json(*e), dspy::demo_to_json(d));
  auto back = dspy::example_from_demo(d);
  ASSERT_TRUE(back);
  EXPECT_EQ(*back, *e);
  e->unlabel<"answer">();
  EXPECT_FALSE(e->has_label<"answer">());
}

TEST(Example, InputsAreRequiredAndValuesTyped) {
  auto missing = dspy::example_from_json<Scored>(boost::json::parse(R"({"question":"q","answer":7})").as_object());
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code(), dspy::Errc::missing_field);
  EXPECT_EQ(missing.error().field(), "level");
  auto bad = dspy::example_from_json<Scored>(boost::json::parse(R"({"question":"q","level":1,"answer":"many"})").as_object());
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code(), dspy::Errc::type_mismatch);
  EXPECT_EQ(bad.error().field(), "answer");
}

// ---- datasets -----------------------------------------------------------------------------------------

using Dataset = Files;

TEST_F(Dataset, JsonlLoadsByFieldName) {
  const auto p = write("qa.jsonl", "{\"question\": \"Capital of France?\", \"answer\": \"Paris\", \"id\": 1}\r\n\n"
                                   "{\"question\": \"Unlabelled\"}\n");
  auto r = dspy::load_jsonl<QA>(p);
  ASSERT_TRUE(r) << r.error().message();
  ASSERT_EQ(r->size(), 2u);
  EXPECT_EQ((*r)[0].input.question, "Capital of France?");
  EXPECT_EQ((*r)[0].labels.answer, "Paris");
  EXPECT_FALSE((*r)[1].has_label<"answer">());
}

TEST_F(Dataset, JsonlErrorsNameFileLineColumnAndField) {
  const auto bad_json = write("a.jsonl", "{\"question\": \"q\"}\n{\"question\": \"q\"}\n{\"question\": \"q\",, }\n");
  auto r = dspy::load_jsonl<QA>(bad_json);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), dspy::Errc::parse_error);
  EXPECT_NE(r.error().message().find(bad_json.string() + ":3:18: invalid JSON"), std::string::npos) << r.error().message();

  const auto not_object = write("b.jsonl", "[1, 2]\n");
  r = dspy::load_jsonl<QA>(not_object);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message().find(":1: expected a JSON object of fields, got an array"), std::string::npos);

  const auto missing = write("c.jsonl", "{\"question\": \"q\"}\n{\"answer\": \"a\"}\n");
  r = dspy::load_jsonl<QA>(missing);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), dspy::Errc::missing_field);
  EXPECT_EQ(r.error().field(), "question");
  EXPECT_EQ(r.error().message(), missing.string() + ":2: missing input field `question`");

  const auto typed = write("d.jsonl", "{\"question\": \"q\", \"level\": \"high\"}\n");
  auto s = dspy::load_jsonl<Scored>(typed);
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code(), dspy::Errc::type_mismatch);
  EXPECT_EQ(s.error().field(), "level");
  EXPECT_NE(s.error().message().find(typed.string() + ":1: `level`:"), std::string::npos) << s.error().message();

  r = dspy::load_jsonl<QA>(dir_ / "absent.jsonl");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), dspy::Errc::io);
  EXPECT_NE(r.error().message().find("absent.jsonl"), std::string::npos);
}

TEST_F(Dataset, CsvFollowsRfc4180) {
  const auto p = write("s.csv",
                       "id,level,question,answer,tags\r\n"
                       "1,3,\"What, with a comma?\",42,\"[\"\"x\"\", \"\"y\"\"]\"\r\n"
                       "2,1,\"two\r\nlines and \"\"quotes\"\"\",,\r\n"
                       "3,2,plain,7,[]");
  auto r = dspy::load_csv<Scored>(p);
  ASSERT_TRUE(r) << r.error().message();
  ASSERT_EQ(r->size(), 3u);
  EXPECT_EQ((*r)[0].input.question, "What, with a comma?");
  EXPECT_EQ((*r)[0].input.level, 3);
  EXPECT_EQ((*r)[0].labels.answer, 42);
  EXPECT_EQ((*r)[0].labels.tags, (std::vector<std::string>{"x", "y"}));
  EXPECT_FALSE((*r)[0].has_label<"reasoning">());  // no column
  EXPECT_EQ((*r)[1].input.question, "two\r\nlines and \"quotes\"");
  EXPECT_FALSE((*r)[1].has_label<"answer">());  // empty cell
  EXPECT_FALSE((*r)[1].has_label<"tags">());
  EXPECT_EQ((*r)[2].labels.answer, 7);
}

TEST_F(Dataset, CsvErrorsNameFileLineColumnAndField) {
  const auto typed = write("t.csv", "question,level,answer\nq,1,4\n\"multi\nline\",2,x\n");
  auto r = dspy::load_csv<Scored>(typed);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), dspy::Errc::type_mismatch);
  EXPECT_EQ(r.error().field(), "answer");
  EXPECT_NE(r.error().message().find(typed.string() + ":4:9: field `answer`: "), std::string::npos) << r.error().message();

  const auto unterminated = write("u.csv", "question,level\nq,1\n\"open,2\n");
  r = dspy::load_csv<Scored>(unterminated);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), dspy::Errc::parse_error);
  EXPECT_NE(r.error().message().find(":3:1: unterminated quoted field"), std::string::npos) << r.error().message();

  const auto stray = write("v.csv", "question,level\nab\"c,1\n");
  r = dspy::load_csv<Scored>(stray);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message().find(":2:3: a quote inside an unquoted field"), std::string::npos) << r.error().message();

  const auto after_quote = write("w.csv", "question,level\n\"ab\"c,1\n");
  r = dspy::load_csv<Scored>(after_quote);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message().find(":2:5: unexpected character after a closing quote"), std::string::npos);

  const auto no_column = write("x.csv", "question,answer\nq,1\n");
  r = dspy::load_csv<Scored>(no_column);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), dspy::Errc::missing_field);
  EXPECT_EQ(r.error().field(), "level");
  EXPECT_NE(r.error().message().find(":1: no column for the input field `level`"), std::string::npos);

  const auto short_row = write("y.csv", "question,level\nq,1\nq\n");
  r = dspy::load_csv<Scored>(short_row);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message().find(":3: 1 fields, but the header has 2"), std::string::npos);

  const auto empty_input = write("z.csv", "question,level\nq,\n");
  r = dspy::load_csv<Scored>(empty_input);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message(), empty_input.string() + ":2: missing input field `level`");
}

TEST(Split, ShuffleIsFisherYatesOverMt19937_64) {
  // The engine is fully specified by the standard: its 10000th output is fixed.
  std::mt19937_64 engine;
  engine.discard(9999);
  EXPECT_EQ(engine(), 9981545732273789042ULL);
  // The shuffle draws j in [0, i] for i = n-1 .. 1 by rejection; the same again by hand.
  std::vector<int> items(20), expected(20);
  for (int i = 0; i < 20; ++i) items[i] = expected[i] = i;
  dspy::shuffle(items, 7);
  std::mt19937_64 rng(7);
  for (std::size_t i = expected.size(); i > 1; --i) {
    const std::uint64_t limit = UINT64_MAX - UINT64_MAX % i;
    std::uint64_t x = rng();
    while (x >= limit) x = rng();
    std::swap(expected[i - 1], expected[x % i]);
  }
  EXPECT_EQ(items, expected);
  std::vector<int> again(20);
  for (int i = 0; i < 20; ++i) again[i] = i;
  dspy::shuffle(again, 8);
  EXPECT_NE(again, items);  // another seed, another order
}

TEST(Split, TrainDevSplitIsReproducible) {
  std::vector<int> all(101);
  for (int i = 0; i < 101; ++i) all[i] = i;
  auto [train, dev] = dspy::train_dev_split(all, {.dev_fraction = 0.25, .seed = 3});
  EXPECT_EQ(train.size(), 76u);
  EXPECT_EQ(dev.size(), 25u);
  auto again = dspy::train_dev_split(all, {.dev_fraction = 0.25, .seed = 3});
  EXPECT_EQ(again.train, train);
  EXPECT_EQ(again.dev, dev);
  std::vector<int> joined = train;
  joined.insert(joined.end(), dev.begin(), dev.end());
  std::sort(joined.begin(), joined.end());
  EXPECT_EQ(joined, all);  // nothing lost or repeated
  auto fixed = dspy::train_dev_split(all, {.dev_size = 10, .shuffle = false});
  EXPECT_EQ(fixed.dev.front(), 91);
  EXPECT_EQ(fixed.train.size(), 91u);
}

// ---- metrics: cases from DSPy's dspy/evaluate/metrics.py ---------------------------------------------

TEST(Metrics, ExactMatchAndF1AsDspy) {
  EXPECT_TRUE(dspy::exact_match("The Eiffel Tower", {"Eiffel Tower", "Louvre"}));
  EXPECT_TRUE(dspy::exact_match("paris", {"Paris"}));
  EXPECT_FALSE(dspy::exact_match("paris", {"Paris, France"}));
  EXPECT_FALSE(dspy::exact_match("paris", {}));
  EXPECT_NEAR(dspy::token_f1("Eiffel Tower is in Paris", {"Paris"}), 1.0 / 3.0, 1e-12);
  EXPECT_DOUBLE_EQ(dspy::f1_score("the Eiffel Tower", "Eiffel Tower"), 1.0);
  // Counter intersection: a repeated token counts as often as both sides have it.
  EXPECT_DOUBLE_EQ(dspy::f1_score("paris paris london", "paris"), 0.5);
  EXPECT_DOUBLE_EQ(dspy::f1_score("paris paris", "paris paris rome"), 0.8);
  // Both empty after normalization: DSPy returns 0 (not SQuAD's 1), while em_score is true.
  EXPECT_DOUBLE_EQ(dspy::f1_score("The", "a"), 0.0);
  EXPECT_TRUE(dspy::em_score("The", "a"));
  EXPECT_DOUBLE_EQ(dspy::hotpot_f1_score("no", "yes"), 0.0);
  EXPECT_DOUBLE_EQ(dspy::hotpot_f1_score("yes", "Yes."), 1.0);
  EXPECT_DOUBLE_EQ(dspy::hotpot_f1_score("no answer", "noanswer"), 0.0);
  EXPECT_DOUBLE_EQ(dspy::hotpot_f1("Eiffel Tower", {"yes", "the eiffel tower"}), 1.0);
  // DSPy's docstring says 0.67 here, but its code gives 2 shared of 4 predicted tokens.
  EXPECT_DOUBLE_EQ(dspy::precision_score("eiffel tower in paris", "eiffel tower"), 0.5);
}

TEST(Metrics, PassageMatchUsesDprTokens) {
  EXPECT_EQ(dspy::dpr_tokens("Paris—France, 2024!"),
            (std::vector<std::string>{"paris", "—", "france", ",", "2024", "!"}));
  // NFD keeps the accent as a mark inside the word token.
  EXPECT_EQ(dspy::dpr_tokens("Café"), (std::vector<std::string>{"cafe\u0301"}));
  EXPECT_TRUE(dspy::passage_has_answers("Paris—France", {"France"}));  // split on the dash
  EXPECT_FALSE(dspy::exact_match("Paris—France", {"France"}));
  EXPECT_FALSE(dspy::passage_has_answers("Café au lait", {"cafe"}));
  EXPECT_TRUE(dspy::passage_has_answers("Café au lait", {"CAFÉ AU"}));
  EXPECT_TRUE(dspy::passage_has_answers("co\u00ADoperate", {"co operate"}));  // a format character splits
  EXPECT_FALSE(dspy::passage_has_answers("The tower", {"tower of"}));
}

struct Context {
  std::vector<std::string> context;
  std::string answer;
};

TEST(Metrics, AnswerExactMatchAndPassageMatchOnExamples) {
  dspy::Example<QA> e{{"Which tower?"}, {"Eiffel Tower"}};
  QA::Output pred{"The Eiffel Tower"};
  EXPECT_TRUE(dspy::answer_exact_match(e, pred));
  EXPECT_FALSE(dspy::answer_exact_match(e, QA::Output{"Eiffel"}));
  EXPECT_TRUE((dspy::AnswerExactMatch{.frac = 0.5})(e, QA::Output{"Eiffel"}));  // F1 2/3
  EXPECT_FALSE((dspy::AnswerExactMatch{.frac = 0.7})(e, QA::Output{"Eiffel"}));
  e.unlabel<"answer">();
  EXPECT_FALSE(dspy::answer_exact_match(e, pred));

  struct Multi {
    struct Input {
      std::string question;
    };
    struct Output {
      std::vector<std::string> answer;
    };
  };
  struct Single {
    std::string answer;
  };
  const dspy::Example<Multi> m{{"q"}, {{"Eiffel Tower", "Louvre"}}};
  EXPECT_TRUE(dspy::answer_exact_match(m, Single{"the louvre"}));
  EXPECT_TRUE(dspy::answer_passage_match(m, Context{{"Nothing here.", "The Eiffel Tower is in Paris."}, ""}));
  EXPECT_FALSE(dspy::answer_passage_match(m, Context{{"Nothing here."}, ""}));

  struct Numeric {
    struct Input {
      std::string question;
    };
    struct Output {
      int answer;
    };
  };
  const dspy::Example<Numeric> n{{"2+2"}, {4}};
  EXPECT_TRUE(dspy::answer_exact_match(n, Numeric::Output{4}));
  EXPECT_FALSE(dspy::answer_exact_match(n, Numeric::Output{5}));
}

TEST(Metrics, UserMetricsMayReturnBoolNumberOrFeedback) {
  const dspy::Example<QA> e{{"q"}, {"a"}};
  const QA::Output p{"a"};
  EXPECT_EQ(dspy::run_metric([](const auto&, const auto&) { return true; }, e, p).score, 1.0);
  EXPECT_EQ(dspy::run_metric([](const auto&, const auto&, const dspy::Trace* t) { return t ? 0.25 : 0.5; }, e, p).score,
            0.5);
  const dspy::Trace trace{{"self", {}, {}}};
  EXPECT_EQ(dspy::run_metric([](const auto&, const auto&, const dspy::Trace* t) { return t ? 0.25 : 0.5; }, e, p, &trace)
                .score,
            0.25);
  const auto fb = dspy::run_metric(
      [](const dspy::Example<QA>&, const QA::Output&, const dspy::Trace*) {
        return dspy::MetricResult{0.3, "too long"};
      },
      e, p);
  EXPECT_EQ(fb, (dspy::MetricResult{0.3, "too long"}));
}

// ---- evaluate -----------------------------------------------------------------------------------------

// Answers the question upper-cased after a question-dependent delay; "fail..." questions get a
// server error, "garble..." a reply without the answer field.
class UpperLM : public dspy::BaseLM {
 public:
  asio::awaitable<dspy::Result<dspy::LMResponse>> aforward(dspy::LMRequest request) override {
    const std::string& user = request.messages.back().content.text();
    const std::size_t start = user.find('\n') + 1;
    std::string question = user.substr(start, user.find("\n\n") - start);
    asio::steady_timer timer(co_await asio::this_coro::executor, std::chrono::milliseconds(question.size() % 5));
    boost::system::error_code ec;
    co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    if (question.starts_with("fail")) co_return dspy::Error(dspy::Errc::server, "503 for " + question);
    dspy::LMResponse r;
    for (auto& c : question) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    r.completions = {question.starts_with("GARBLE") ? "no fields here" : "[[ ## answer ## ]]\n" + question};
    r.usage = {10, 2, 12};
    co_return r;
  }
  [[nodiscard]] std::string model() const override { return "upper"; }
};

std::vector<dspy::Example<QA>> devset(int n) {
  std::vector<dspy::Example<QA>> out;
  for (int i = 0; i < n; ++i) {
    const std::string q = (i % 7 == 3 ? "fail " : i % 7 == 5 ? "garble " : "q") + std::to_string(i);
    std::string label = q;
    for (auto& c : label) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    if (i % 4 == 1) label += " wrong";
    out.push_back({{q}, {label}});
  }
  return out;
}

TEST(Evaluate, InjectedFailuresLoseNothing) {
  dspy::Predict<QA> qa;
  qa.set_lm(std::make_shared<UpperLM>());
  const auto dev = devset(60);
  const auto result = dspy::evaluate(qa, dev, dspy::answer_exact_match,
                                     {.concurrency = 8, .progress = false, .failure_score = -1.0});
  ASSERT_EQ(result.rows.size(), dev.size());
  double total = 0;
  std::size_t failures = 0;
  for (std::size_t i = 0; i < dev.size(); ++i) {
    const auto& row = result.rows[i];
    EXPECT_EQ(row.index, i);
    EXPECT_EQ(row.example, dspy::example_to_json(dev[i]));
    if (i % 7 == 3 || i % 7 == 5) {
      ++failures;
      ASSERT_TRUE(row.error) << i;
      EXPECT_EQ(row.error->code, i % 7 == 3 ? dspy::Errc::server : dspy::Errc::parse_error);
      EXPECT_FALSE(row.prediction);
      EXPECT_EQ(row.score, -1.0);
    } else {
      ASSERT_FALSE(row.error) << row.error->message;
      ASSERT_TRUE(row.prediction);
      EXPECT_EQ(row.prediction->at("answer").as_string(), dev[i].input.question == "" ? "" : [&] {
        std::string up = dev[i].input.question;
        for (auto& c : up) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
        return up;
      }());
      EXPECT_EQ(row.score, i % 4 == 1 ? 0.0 : 1.0) << i;
      EXPECT_EQ(row.usage, (dspy::Usage{10, 2, 12}));
      EXPECT_GT(row.latency_s, 0.0);
    }
    total += row.score;
  }
  EXPECT_EQ(result.errors(), failures);
  EXPECT_DOUBLE_EQ(result.total, total);
  EXPECT_DOUBLE_EQ(result.score, std::round(100.0 * total / 60 * 100) / 100);
}

TEST(Evaluate, MetricFeedbackAndMetricFailures) {
  dspy::Predict<QA> qa;
  qa.set_lm(std::make_shared<UpperLM>());
  const auto dev = devset(10);
  const auto result = dspy::evaluate(
      qa, dev,
      [](const dspy::Example<QA>& e, const dspy::Predicted<QA::Output>& p, const dspy::Trace* trace) {
        EXPECT_EQ(trace, nullptr);
        if (e.input.question == "q6") throw std::runtime_error("no score for q6");
        return dspy::MetricResult{p->answer.size() / 10.0, "length " + std::to_string(p->answer.size())};
      },
      {.concurrency = 3, .progress = false});
  ASSERT_EQ(result.rows.size(), 10u);
  EXPECT_EQ(result.rows[0].feedback, "length 2");
  EXPECT_DOUBLE_EQ(result.rows[0].score, 0.2);
  ASSERT_TRUE(result.rows[6].error);
  EXPECT_EQ(result.rows[6].error->code, dspy::Errc::metric);
  EXPECT_NE(result.rows[6].error->message.find("no score for q6"), std::string::npos);
}

TEST(Evaluate, MaxErrorsStopsButReportsEveryExample) {
  dspy::Predict<QA> qa;
  qa.set_lm(std::make_shared<UpperLM>());
  std::vector<dspy::Example<QA>> dev;
  for (int i = 0; i < 30; ++i) dev.push_back({{"fail " + std::to_string(i)}, {"x"}});
  const auto result = dspy::evaluate(qa, dev, dspy::answer_exact_match,
                                     {.concurrency = 2, .progress = false, .max_errors = 3});
  ASSERT_EQ(result.rows.size(), 30u);
  EXPECT_EQ(result.errors(), 30u);
  EXPECT_EQ(result.rows.back().error->code, dspy::Errc::cancelled);
  EXPECT_EQ(result.score, 0.0);
}

TEST_F(Dataset, EvaluationResultsRoundTripThroughCsvAndJson) {
  dspy::Predict<QA> qa;
  qa.set_lm(std::make_shared<UpperLM>());
  auto dev = devset(15);
  // Values that need care in CSV: commas, quotes, line breaks, JSON-looking text, empty text.
  dev[0].input.question = "q, \"quoted\"\nnext line é";
  dev[1].input.question = "q42";
  dev[2].labels.answer = "42";
  dev[4].labels.answer = "";
  dev[6].unlabel<"answer">();
  dev[8].labels.answer = "[1, 2]";
  auto result = dspy::evaluate(qa, dev, dspy::answer_exact_match, {.progress = false});
  result.rows[9].feedback = "good, \"very\"\r\nreally";
  result.rows[10].latency_s = 1e-7;

  const auto json_path = dir_ / "r.json";
  ASSERT_TRUE(result.save_json(json_path));
  auto from_json = dspy::EvaluationResult::load_json(json_path);
  ASSERT_TRUE(from_json) << from_json.error().message();
  EXPECT_EQ(*from_json, result);

  const auto csv_path = dir_ / "r.csv";
  ASSERT_TRUE(result.save_csv(csv_path));
  auto from_csv = dspy::EvaluationResult::load_csv(csv_path);
  ASSERT_TRUE(from_csv) << from_csv.error().message();
  ASSERT_EQ(from_csv->rows.size(), result.rows.size());
  for (std::size_t i = 0; i < result.rows.size(); ++i) EXPECT_EQ(from_csv->rows[i], result.rows[i]) << i;
  EXPECT_EQ(from_csv->score, result.score);
  EXPECT_DOUBLE_EQ(from_csv->total, result.total);

  const auto bad = write("bad.json", R"({"score": 1, "total": 1, "rows": [{"index": 0}]})");
  auto broken = dspy::EvaluationResult::load_json(bad);
  ASSERT_FALSE(broken);
  EXPECT_NE(broken.error().message().find("rows[0]"), std::string::npos);
  const auto negative = write("neg.json", R"({"score": 1, "total": 1, "rows": [{"index": -1, "example": {}, "score": 1}]})");
  broken = dspy::EvaluationResult::load_json(negative);
  ASSERT_FALSE(broken);
  EXPECT_EQ(broken.error().code(), dspy::Errc::parse_error);

  const std::string table = result.table(4);
  EXPECT_NE(table.find("question"), std::string::npos);
  EXPECT_NE(table.find("pred_answer"), std::string::npos);
  EXPECT_NE(table.find("server: 503 for fail 3"), std::string::npos);
  EXPECT_NE(table.find("... 11 more rows"), std::string::npos);
}

TEST(Evaluate, BatchProgressLinesWhenNotATerminal) {
  dspy::Predict<QA> qa;
  qa.set_lm(std::make_shared<UpperLM>());
  std::FILE* out = std::tmpfile();
  ASSERT_NE(out, nullptr);
  std::vector<QA::Input> inputs;
  for (int i = 0; i < 20; ++i) inputs.push_back({"q" + std::to_string(i)});
  const auto results = dspy::batch(qa, inputs,
                                   {.concurrency = 4, .progress_lines = true, .progress_stream = out,
                                    .progress_note = [] { return std::string("note"); }});
  ASSERT_EQ(results.size(), 20u);
  std::rewind(out);
  std::string text(4096, '\0');
  text.resize(std::fread(text.data(), 1, text.size(), out));
  std::fclose(out);
  // A line at each tenth: 2, 4, ..., 20 of 20.
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 10);
  EXPECT_NE(text.find("20/20  "), std::string::npos);
  EXPECT_NE(text.find("/s  eta "), std::string::npos);
  EXPECT_NE(text.find("note\n"), std::string::npos);
  EXPECT_EQ(text.find('\r'), std::string::npos);
}

// DSPy's progress line divides by the examples scored so far (failures left out), not the dev set.
TEST(Evaluate, ProgressLineAveragesOverTheExamplesScoredSoFar) {
  dspy::Predict<QA> qa;
  qa.set_lm(std::make_shared<UpperLM>());
  // In order: right, wrong, right, failed, right, failed, right, right, right, wrong.
  const auto dev = devset(10);
  ::testing::internal::CaptureStderr();
  const auto result = dspy::evaluate(qa, dev, dspy::answer_exact_match, {.concurrency = 1, .progress = true});
  const std::string text = ::testing::internal::GetCapturedStderr();
  EXPECT_DOUBLE_EQ(result.total, 6.0);
  const auto line = [&](const std::string& counts) {
    const std::size_t at = text.find(counts);
    return at == std::string::npos ? std::string() : text.substr(at, text.find('\n', at) - at);
  };
  EXPECT_TRUE(line("1/10 ").ends_with("  Average Metric: 1.00 / 1 (100.0%)")) << text;
  EXPECT_TRUE(line("3/10 ").ends_with("  Average Metric: 2.00 / 3 (66.7%)")) << text;
  EXPECT_TRUE(line("4/10 ").ends_with("  Average Metric: 2.00 / 3 (66.7%)")) << text;
  EXPECT_TRUE(line("10/10 ").ends_with("  Average Metric: 6.00 / 8 (75.0%)")) << text;
  // The summary is over the whole dev set, failures scoring failure_score, as DSPy's.
  EXPECT_NE(text.find("\nAverage Metric: 6.00 / 10 (60.0%)\n"), std::string::npos) << text;
}

}  // namespace evaluate_test
