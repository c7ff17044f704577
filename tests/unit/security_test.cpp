// Security: an API key never reaches anything a run writes (history, the JSONL log, cache files,
// saved state, error messages), TLS verification is on by default, and hostile input is bounded:
// oversized replies, deep nesting in replies and state files, huge fields, state of the wrong
// shape.
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include <dspy/clients/cache.hpp>
#include <dspy/clients/lm.hpp>
#include <dspy/detail/http/curl_multi.hpp>
#include <dspy/detail/http/retry.hpp>
#include <dspy/all.hpp>
#include <gtest/gtest.h>

#include "../support/http_test_server.hpp"
#include "golden_signatures.hpp"

namespace security_test {

namespace fs = std::filesystem;
using dspy::Errc;
using dspy::test::Reply;
using dspy::test::TestServer;

constexpr std::string_view kKey = "sk-LEAKCHECK-4f1d2c3b5a6978e0d1c2b3a4f5e6d7c8";

std::string read_all(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string chat(const std::string& answer) {
  return dspy::test::openai_reply({"[[ ## answer ## ]]\n" + answer + "\n\n[[ ## completed ## ]]"});
}

class Artifacts : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("dspy-security-" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
};

TEST_F(Artifacts, AKeyTheServerEchoesAppearsInNothingARunWrites) {
  TestServer server;
  // Servers do echo credentials: in 401 texts, and in 5xx pages that dump the request.
  const std::string echo = R"({"error":{"message":"Incorrect API key provided: )" + std::string(kKey) + R"("}})";
  server.push({.body = chat("Paris")})
      .push({.status = 500, .body = "upstream failed; request had Authorization: Bearer " + std::string(kKey)})
      .push({.body = chat("Rome")})
      .push({.status = 401, .body = echo})
      .push({.status = 400, .body = "bad request from key " + std::string(kKey)})
      .push({.body = "not json " + std::string(kKey)});

  // The LM's own cache and the global history, as a real run has them; the cache in this test's
  // directory so that its files are checked below.
  auto cache = std::make_shared<dspy::Cache>(dspy::CacheOptions{.directory = dir_ / "cache"});
  dspy::LMHistory& history = dspy::global_history();
  const std::size_t capacity = history.capacity();
  history.set_capacity(0);  // empties it
  history.set_capacity(capacity);
  dspy::LM lm("openai/gpt-4o-mini", {.api_base = server.base_url(),
                                     .api_key = std::string(kKey),
                                     .num_retries = 1,
                                     .backoff = {.initial = std::chrono::milliseconds(1)},
                                     .cache_store = cache});
  auto log = std::make_shared<dspy::JsonlLog>(dir_ / "calls.jsonl");
  ASSERT_TRUE(log->ok());
  auto scope = dspy::context({.callbacks = std::vector<std::shared_ptr<dspy::Callback>>{log}});

  dspy::Predict<golden::QA> qa;
  qa.set_lm(lm);
  std::vector<std::string> said;  // every error text the run produced
  const auto ask = [&](const std::string& q) {
    auto r = qa({.question = q});
    if (!r) said.push_back(r.error().message() + "\n" + r.error().raw_response());
    return r;
  };
  ASSERT_TRUE(ask("Capital of France?"));
  ASSERT_TRUE(ask("Capital of Italy?"));  // after a 500 that dumped the header
  ASSERT_TRUE(ask("Capital of France?"));  // a cache hit
  EXPECT_EQ(ask("Who am I?").error().code(), Errc::auth);
  EXPECT_EQ(ask("Bad?").error().code(), Errc::bad_request);
  EXPECT_EQ(ask("Garbled?").error().code(), Errc::bad_response);
  ASSERT_EQ(said.size(), 3u);

  qa.demos.push_back({.input = {"Capital of Spain?"}, .output = {"Madrid"}});
  ASSERT_TRUE(dspy::save(qa, dir_ / "program.json"));
  std::ostringstream shown;
  dspy::detail::print_history(shown, history.last(100), false);

  // The key did go out, and every artifact has content: the checks below can fail.
  ASSERT_EQ(server.requests().size(), 6u);
  EXPECT_EQ(server.requests()[0].header("authorization"), "Bearer " + std::string(kKey));
  EXPECT_EQ(history.size(), 3u);  // the cache hit too
  EXPECT_NE(shown.str().find("Capital of Italy?"), std::string::npos);

  std::size_t files = 0;
  for (const auto& e : fs::recursive_directory_iterator(dir_)) {
    if (!e.is_regular_file()) continue;
    ++files;
    const std::string bytes = read_all(e.path());
    EXPECT_FALSE(bytes.empty()) << e.path();
    EXPECT_EQ(bytes.find(kKey), std::string::npos) << e.path();
  }
  EXPECT_GE(files, 4u);  // the log, the state, two cache entries
  EXPECT_EQ(shown.str().find(kKey), std::string::npos);
  for (const auto& text : said) {
    EXPECT_EQ(text.find(kKey), std::string::npos) << text;
    EXPECT_NE(text.find("[redacted]"), std::string::npos) << text;  // the echo was there, and removed
  }
}

TEST(Security, TlsPeerVerificationIsOnUnlessTurnedOff) {
  EXPECT_TRUE(dspy::LMConfig{}.verify_tls);
  EXPECT_TRUE(dspy::detail::HttpRequest{}.verify_tls);
  dspy::LM lm("openai/gpt-4o-mini", {.api_key = "k"});
  EXPECT_TRUE(lm.config().verify_tls);
}

// ---- hostile replies ----

dspy::LMConfig quick(const TestServer& server) {
  return {.api_base = server.base_url(),
          .api_key = "k",
          .num_retries = 2,
          .backoff = {.initial = std::chrono::milliseconds(1)},
          .cache = false,  // every call must reach this test's server
          .max_response_bytes = 1 << 20};
}

dspy::LMRequest question() {
  dspy::LMRequest r;
  r.messages = {{"user", "Capital of France?"}};
  return r;
}

TEST(Security, AReplyOverTheSizeLimitIsATypedErrorAndIsNotRetried) {
  TestServer server;
  server.fallback({.body = chat(std::string(3 << 20, 'x'))});
  dspy::LM lm("openai/m", quick(server));
  auto r = lm.call(question());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), Errc::bad_response);
  EXPECT_NE(r.error().message().find("1048576-byte limit"), std::string::npos) << r.error().message();
  EXPECT_NE(r.error().message().find("max_response_bytes"), std::string::npos);
  EXPECT_EQ(server.requests().size(), 1u);
  // An error page over the limit too: the limit wins over the status.
  TestServer errors;
  errors.fallback({.status = 503, .body = std::string(2 << 20, 'e')});
  dspy::LM lm2("openai/m", quick(errors));
  auto e = lm2.call(question());
  ASSERT_FALSE(e);
  EXPECT_EQ(e.error().code(), Errc::bad_response);
  EXPECT_EQ(errors.requests().size(), 1u);
}

TEST(Security, AReplyJustUnderTheLimitIsRead) {
  TestServer server;
  const std::string answer(900'000, 'y');
  server.push({.body = chat(answer)});
  dspy::LM lm("openai/m", quick(server));
  auto r = lm.call(question());
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_NE(r->completions.at(0).find(answer), std::string::npos);
}

// Found by fuzzing: a date centuries ahead overflowed the clock's nanoseconds.
TEST(Security, RetryAfterDatesFarAheadAreCappedAtADay) {
  EXPECT_EQ(dspy::detail::parse_retry_after("Wed, 21 Oct 201503 07:28:00 GMT"), std::chrono::hours(24));
  const auto now = std::chrono::system_clock::from_time_t(curl_getdate("Wed, 21 Oct 2015 07:28:00 GMT", nullptr));
  EXPECT_EQ(dspy::detail::parse_retry_after("Wed, 21 Oct 2015 07:28:10 GMT", now), std::chrono::seconds(10));
  EXPECT_EQ(dspy::detail::parse_retry_after("Thu, 22 Oct 2015 07:28:01 GMT", now), std::chrono::hours(24));
}

// Found by fuzzing: a JSON integer past INT64_MAX for a bool field threw from Boost.JSON.
TEST(Security, HugeIntegersForABoolAreTypedErrors) {
  bool b = false;
  EXPECT_TRUE(dspy::from_json(boost::json::parse("15222222222262323996"), b));
  EXPECT_TRUE(dspy::from_json(boost::json::parse("-1"), b));
  EXPECT_FALSE(dspy::from_json(boost::json::parse("1"), b));
  EXPECT_TRUE(b);
  auto r = dspy::parse_completion<golden::TextMetrics>(
      dspy::JSONAdapter{},
      R"({"word_count": 1, "score": 0.5, "is_question": 15222222222262323996, "keywords": []})");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), Errc::type_mismatch);
}

TEST(Security, DeeplyNestedReplyBodiesAreBadResponses) {
  TestServer server;
  server.push({.body = std::string(200'000, '[') + std::string(200'000, ']')});
  server.push({.body = R"({"choices":)" + std::string(100'000, '[') + std::string(100'000, ']') + "}"});
  dspy::LM lm("openai/m", quick(server));
  for (int i = 0; i < 2; ++i) {
    auto r = lm.call(question());
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code(), Errc::bad_response) << r.error().message();
  }
}

// Found while profiling the stream fuzzer: before the first non-blank byte, the stream decoder
// searched all the whitespace it held at every piece, so a reply of whitespace in many pieces
// took time quadratic in its length (8 MiB in 4 KiB pieces: minutes). Each piece is now searched
// once; the quadratic version would not finish this test.
TEST(Security, AReplyOfWhitespaceInManyPiecesIsReadInLinearTime) {
  const std::string blank(4096, ' ');
  const dspy::TextSink sink = [](std::string_view) {};
  dspy::detail::StreamDecoder decoder(dspy::detail::WireApi::openai_chat, sink);
  for (int i = 0; i < 2048; ++i) ASSERT_TRUE(decoder.feed(blank));
  ASSERT_TRUE(decoder.feed(dspy::test::openai_reply({"Paris"})));
  auto r = decoder.finish();
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->completions.at(0), "Paris");
}

// ---- hostile completions ----

TEST(Security, DeeplyNestedCompletionsAreParseErrorsInEveryAdapter) {
  const std::string deep_xml = "<answer>" + [] {
    std::string s;
    for (int i = 0; i < 100'000; ++i) s += "<a>";
    s += "x";
    for (int i = 0; i < 100'000; ++i) s += "</a>";
    return s;
  }() + "</answer>";
  auto x = dspy::parse_completion<golden::ExtractPerson>(dspy::XMLAdapter{}, deep_xml);
  ASSERT_FALSE(x);
  EXPECT_TRUE(dspy::is_parse_error(x.error().code()));
  const std::string deep_json = R"({"person": )" + std::string(100'000, '[') + std::string(100'000, ']') + "}";
  auto j = dspy::parse_completion<golden::ExtractPerson>(dspy::JSONAdapter{}, deep_json);
  ASSERT_FALSE(j);
  EXPECT_TRUE(dspy::is_parse_error(j.error().code()));
  auto c = dspy::parse_completion<golden::ExtractPerson>(dspy::ChatAdapter{},
                                                         "[[ ## person ## ]]\n" + deep_json + "\n[[ ## completed ## ]]");
  ASSERT_FALSE(c);
  EXPECT_TRUE(dspy::is_parse_error(c.error().code()));
}

TEST(Security, HugeFieldsAreReadWhole) {
  const std::string big(4 << 20, 'z');
  auto chat_r = dspy::parse_completion<golden::QA>(dspy::ChatAdapter{}, "[[ ## answer ## ]]\n" + big + "\n\n[[ ## completed ## ]]");
  ASSERT_TRUE(chat_r);
  EXPECT_EQ(chat_r->answer.size(), big.size());
  auto json_r = dspy::parse_completion<golden::QA>(dspy::JSONAdapter{}, R"({"answer": ")" + big + "\"}");
  ASSERT_TRUE(json_r);
  EXPECT_EQ(json_r->answer.size(), big.size());
  auto xml_r = dspy::parse_completion<golden::QA>(dspy::XMLAdapter{}, "<answer>" + big + "</answer>");
  ASSERT_TRUE(xml_r);
  EXPECT_EQ(xml_r->answer.size(), big.size());
}

TEST(Security, XmlCharacterReferencesOutsideUnicodeAreNeverDecoded) {
  // The XML is rejected, and the XMLAdapter's lenient reading takes the field's text verbatim.
  for (std::string_view ref : {"&#0;", "&#xD800;", "&#x110000;", "&#99999999999999999999;"}) {
    auto r = dspy::parse_completion<golden::QA>(dspy::XMLAdapter{}, "<answer>a" + std::string(ref) + "</answer>");
    ASSERT_TRUE(r) << ref;
    EXPECT_EQ(r->answer, "a" + std::string(ref));
  }
  auto ok = dspy::parse_completion<golden::QA>(dspy::XMLAdapter{}, "<answer>&#x1F600;&#233;</answer>");
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->answer, "\U0001F600\u00e9");
}

// ---- hostile state files ----

struct Program {
  dspy::Predict<golden::QA> qa;
  dspy::Predict<golden::TextMetrics> metrics;
};
BOOST_DESCRIBE_STRUCT(Program, (), (qa, metrics))

TEST(Security, StateFilesOfTheWrongShapeAreTypedErrorsAndChangeNothing) {
  Program p;
  p.qa.demos.push_back({.input = {"Capital of Spain?"}, .output = {"Madrid"}});
  const std::string before = dspy::save_string(p);
  const std::string nested = std::string(50'000, '[') + std::string(50'000, ']');
  const std::vector<std::string> hostile = {
      nested,
      R"({"qa": )" + std::string(10'000, '{') + std::string(10'000, '}') + "}",
      "[]",
      "42",
      "null",
      R"({"qa": [], "metrics": {}})",
      R"({"qa": {"demos": "many"}, "metrics": {}})",
      R"({"qa": {"demos": [17]}, "metrics": {}})",
      R"({"qa": {"demos": [{"question": 1, "answer": ["x"]}]}, "metrics": {}})",
      R"({"qa": {"demos": []}, "metrics": {"demos": [{"word_count": "lots", "score": {}, "is_question": 2}]}})",
      R"({"qa": {"demos": []}, "metrics": {"demos": []}, "intruder": {}})",
      R"({"qa": {"demos": []}})",
      R"({"qa": {"demos": [)" + std::string(10'000, '[') + std::string(10'000, ']') + "]}}",
  };
  for (const auto& text : hostile) {
    auto r = dspy::load_string(p, text);
    ASSERT_FALSE(r) << text.substr(0, 80);
    EXPECT_FALSE(r.error().message().empty());
    EXPECT_EQ(dspy::save_string(p), before) << text.substr(0, 80);
  }
}

// JSON has no infinity: `1e999` reads as one, and saving it would write a token that no JSON
// reader (Boost.JSON's included) reads back. Loading names where it is and changes nothing.
TEST(Security, StateNumbersBeyondTheDoubleRangeAreTypedErrorsNamingWhere) {
  Program p;
  const std::string before = dspy::save_string(p);
  for (const char* number : {"1e999", "-1e999", "1E400"}) {
    const std::string text = std::string(R"({"qa": {"demos": []}, "metrics": {"demos": [{"text": "a b", )") +
                             R"("word_count": 2, "score": )" + number + R"(, "is_question": false, "keywords": []}]}})";
    auto r = dspy::load_string(p, text);
    ASSERT_FALSE(r) << number;
    EXPECT_EQ(r.error().code(), dspy::Errc::parse_error);
    EXPECT_EQ(r.error().field(), "metrics.demos[0].score");
    EXPECT_NE(r.error().message().find("metrics.demos[0].score"), std::string::npos) << r.error().message();
    EXPECT_NE(r.error().message().find("not finite"), std::string::npos) << r.error().message();
    EXPECT_EQ(dspy::save_string(p), before);
  }
  // Large but finite numbers still load, and what loads saves and loads again.
  const std::string big = R"({"qa": {"demos": []}, "metrics": {"demos": [{"text": "a b", "word_count": 2, )"
                          R"("score": 1.5e308, "is_question": false, "keywords": []}]}})";
  ASSERT_TRUE(dspy::load_string(p, big));
  const std::string saved = dspy::save_string(p);
  Program again;
  ASSERT_TRUE(dspy::load_string(again, saved));
  EXPECT_EQ(dspy::save_string(again), saved);
}

TEST(Security, TurningTlsVerificationOffWarnsOnceOnStderrNamingTheEndpoint) {
  const std::string base = "https://tls-off.example.test:8443/v1";
  testing::internal::CaptureStderr();
  const dspy::LM off("openai/gpt-4o-mini", {.api_base = base, .api_key = "sk-tls-secret", .verify_tls = false});
  const dspy::LM same("openai/gpt-4o-mini", {.api_base = base, .api_key = "sk-tls-secret", .verify_tls = false});
  const dspy::LM on("openai/gpt-4o-mini", {.api_base = "https://tls-on.example.test/v1", .api_key = "sk-x"});
  const std::string err = testing::internal::GetCapturedStderr();
  EXPECT_NE(err.find("TLS peer verification is OFF"), std::string::npos) << err;
  EXPECT_NE(err.find("openai/gpt-4o-mini"), std::string::npos) << err;
  EXPECT_NE(err.find("tls-off.example.test:8443"), std::string::npos) << err;
  EXPECT_EQ(err.find("tls-on.example.test"), std::string::npos) << err;
  EXPECT_EQ(err.find("sk-tls-secret"), std::string::npos) << err;
  // Once per model and endpoint, however many LMs name them.
  EXPECT_EQ(err.find("TLS peer verification"), err.rfind("TLS peer verification")) << err;
}

}  // namespace security_test
