// dspy::Embedder over real HTTP on loopback: the request, batching and order, the reply's
// checks, retries and errors, the cache and usage; and the function form.
#include <cstdint>
#include <algorithm>
#include <memory>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include <boost/json.hpp>
#include <dspy/clients/embedder.hpp>
#include <dspy/clients/usage.hpp>
#include <dspy/testing/demo_server.hpp>
#include <dspy/testing/hash_embedding.hpp>
#include <gtest/gtest.h>

#include "../support/http_test_server.hpp"

namespace embedder_test {

using dspy::test::Received;
using dspy::test::Reply;
using dspy::test::TestServer;

// A vector that says which text it belongs to: {length of the text, its first byte, 1}.
boost::json::array vector_of(const std::string& text) {
  return {static_cast<double>(text.size()), text.empty() ? 0.0 : static_cast<double>(text[0]), 1.0};
}

// An OpenAI embeddings reply to `request`, its items listed last first (each with its index).
Reply embeddings_reply(const Received& request) {
  const auto input = request.json().at("input").as_array();
  boost::json::array data;
  for (std::size_t i = input.size(); i-- > 0;)
    data.push_back({{"object", "embedding"}, {"index", i}, {"embedding", vector_of(std::string(input[i].as_string()))}});
  return {.body = boost::json::serialize(boost::json::object{
              {"object", "list"},
              {"data", std::move(data)},
              {"model", "test-embed"},
              {"usage", {{"prompt_tokens", 3 * input.size()}, {"total_tokens", 3 * input.size()}}}})};
}

std::shared_ptr<dspy::Cache> memory_cache() {
  return std::make_shared<dspy::Cache>(dspy::CacheOptions{.enable_disk = false});
}

dspy::EmbedderConfig config_for(const TestServer& server, dspy::EmbedderConfig c = {}) {
  c.api_base = server.base_url();
  if (!c.api_key) c.api_key = "sk-embed-secret-123456";
  c.backoff = {.initial = std::chrono::milliseconds(1), .max = std::chrono::milliseconds(2)};
  if (!c.cache_store) c.caching = false;
  return c;
}

TEST(Embedder, BatchesGoInOrderAndRowsComeBackInInputOrder) {
  TestServer server;
  server.respond(embeddings_reply);
  dspy::Embedder embed("openai/text-embedding-3-small",
                       config_for(server, {.batch_size = 2, .dimensions = 3, .extra_body = {{"user", "u1"}}}));
  EXPECT_EQ(embed.url(), server.base_url() + "/embeddings");
  const std::vector<std::string> texts = {"a", "bb", "ccc", "dddd", "eeeee"};
  auto m = embed(texts);
  ASSERT_TRUE(m) << m.error().message();
  ASSERT_EQ(m->rows(), 5u);
  ASSERT_EQ(m->dimensions(), 3u);
  for (std::size_t i = 0; i < texts.size(); ++i) {
    EXPECT_EQ(m->row(i)[0], static_cast<float>(texts[i].size())) << i;
    EXPECT_EQ(m->row(i)[1], static_cast<float>(texts[i][0])) << i;
  }
  const auto got = server.requests();
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[0].target, "/v1/embeddings");
  EXPECT_EQ(got[0].body, R"({"model":"text-embedding-3-small","input":["a","bb"],"dimensions":3,"user":"u1"})");
  EXPECT_EQ(got[2].json().at("input"), (boost::json::array{"eeeee"}));
  EXPECT_EQ(got[0].header("authorization"), "Bearer sk-embed-secret-123456");

  // A call's batch size wins over the embedder's.
  ASSERT_TRUE(embed(texts, {.batch_size = 5}));
  EXPECT_EQ(server.requests().size(), 4u);
}

TEST(Embedder, NoTextsMakeNoRequest) {
  TestServer server;
  dspy::Embedder embed("openai/e", config_for(server));
  auto m = embed({});
  ASSERT_TRUE(m);
  EXPECT_EQ(m->rows(), 0u);
  EXPECT_TRUE(server.requests().empty());
}

TEST(Embedder, ServerErrorsAreRetriedThenTyped) {
  TestServer server;
  server.push({.status = 503, .body = R"({"error":{"message":"busy"}})"});
  server.respond(embeddings_reply);
  dspy::Embedder embed("openai/e", config_for(server));
  auto m = embed({"x"});
  ASSERT_TRUE(m) << m.error().message();
  EXPECT_EQ(server.requests().size(), 2u);

  TestServer failing;
  failing.fallback({.status = 500, .body = R"({"error":{"message":"down"}})"});
  dspy::Embedder once("openai/e", config_for(failing, {.num_retries = 1}));
  auto e = once({"x"});
  ASSERT_FALSE(e);
  EXPECT_EQ(e.error().code(), dspy::Errc::server);
  EXPECT_NE(e.error().message().find("HTTP 500"), std::string::npos) << e.error().message();
  EXPECT_EQ(failing.requests().size(), 2u);
}

TEST(Embedder, TheKeyNeverLeavesInAnError) {
  TestServer server;
  server.fallback({.status = 401,
                   .body = R"j({"error":{"message":"bad key sk-embed-secret-123456 (Bearer sk-embed-secret-123456)"}})j"});
  dspy::Embedder embed("openai/e", config_for(server));
  auto e = embed({"x"});
  ASSERT_FALSE(e);
  EXPECT_EQ(e.error().code(), dspy::Errc::auth);
  EXPECT_EQ(e.error().message().find("secret"), std::string::npos) << e.error().message();
  EXPECT_EQ(e.error().raw_response().find("secret"), std::string::npos) << e.error().raw_response();
}

TEST(Embedder, MalformedRepliesAreTypedErrors) {
  const auto one = [](const char* embedding, const char* index = "0") {
    return std::string(R"({"data":[{"index":)") + index + R"(,"embedding":)" + embedding + "}]}";
  };
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"not json", "not JSON"},
      {R"({"object":"list"})", "no \"data\" array"},
      {R"({"data":[]})", "0 embeddings for 1 texts"},
      {R"({"data":[{"embedding":[1]},{"embedding":[2]}]})", "2 embeddings for 1 texts"},
      {one("[]"), "is empty"},
      {one(R"("x")"), "not base64"},
      {one(R"([1,"2"])"), "value 1 is not a number"},
      {one("[1e300]"), "value 0 is not a number"},
      {one("[1]", "5"), "index 5"},
      {one("[1,2]"), "2 dimensions; 3 were asked for"},
      {R"({"data":[{"embedding":[1,2,3]}],"usage":{"prompt_tokens":-4}})", "negative token count"},
  };
  for (const auto& [body, expected] : cases) {
    TestServer server;
    server.fallback({.body = body});
    dspy::Embedder embed("openai/e", config_for(server, {.dimensions = 3}));
    auto e = embed({"x"});
    ASSERT_FALSE(e) << body;
    EXPECT_EQ(e.error().code(), dspy::Errc::bad_response) << body;
    EXPECT_NE(e.error().message().find(expected), std::string::npos) << body << " -> " << e.error().message();
  }
}

TEST(Embedder, RowsOfMixedLengthsAcrossBatchesAreAnError) {
  TestServer server;
  server.push({.body = R"({"data":[{"embedding":[1,2]}]})"});
  server.push({.body = R"({"data":[{"embedding":[1,2,3]}]})"});
  dspy::Embedder embed("openai/e", config_for(server, {.batch_size = 1}));
  auto e = embed({"a", "b"});
  ASSERT_FALSE(e);
  EXPECT_EQ(e.error().code(), dspy::Errc::bad_response);
  EXPECT_NE(e.error().message().find("3 dimensions do not go with earlier ones of 2"), std::string::npos)
      << e.error().message();
}

TEST(Embedder, DuplicateIndicesAreAnError) {
  TestServer server;
  server.fallback({.body = R"({"data":[{"index":0,"embedding":[1]},{"index":0,"embedding":[2]}]})"});
  dspy::Embedder embed("openai/e", config_for(server));
  auto e = embed({"a", "b"});
  ASSERT_FALSE(e);
  EXPECT_NE(e.error().message().find("not a new one"), std::string::npos) << e.error().message();
}

TEST(Embedder, Base64VectorsAreRead) {
  // 1.0f and -2.5f, little-endian float32.
  TestServer server;
  server.fallback({.body = R"({"data":[{"index":0,"embedding":"AACAPwAAIMA="}]})"});
  dspy::Embedder embed("openai/e", config_for(server, {.extra_body = {{"encoding_format", "base64"}}}));
  auto m = embed({"a"});
  ASSERT_TRUE(m) << m.error().message();
  EXPECT_EQ(m->values(), (std::vector<float>{1.0F, -2.5F}));
}

TEST(Embedder, RepeatedBatchesComeFromTheCacheAndCountNoUsage) {
  TestServer server;
  server.respond(embeddings_reply);
  auto cache = memory_cache();
  dspy::Embedder embed("openai/e", config_for(server, {.batch_size = 2, .cache_store = cache}));
  dspy::Usage first;
  {
    auto usage = dspy::track_usage();
    auto a = embed({"a", "bb", "ccc"});
    ASSERT_TRUE(a) << a.error().message();
    first = usage.total();
    auto b = embed({"a", "bb", "ccc"});
    ASSERT_TRUE(b) << b.error().message();
    EXPECT_EQ(*a, *b);
    EXPECT_EQ(usage.total(), first);  // the hits spent nothing
  }
  EXPECT_EQ(first.prompt_tokens, 9);
  EXPECT_EQ(server.requests().size(), 2u);

  // Another batching is another request; so are other options; caching off asks again.
  ASSERT_TRUE(embed({"a", "bb", "ccc"}, {.batch_size = 3}));
  EXPECT_EQ(server.requests().size(), 3u);
  ASSERT_TRUE(embed({"a", "bb"}, {.extra = {{"user", "x"}}}));
  EXPECT_EQ(server.requests().size(), 4u);
  ASSERT_TRUE(embed({"a", "bb"}, {.caching = false}));
  EXPECT_EQ(server.requests().size(), 5u);
  // The key is never part of the cache key: another key hits.
  dspy::Embedder other("openai/e", config_for(server, {.batch_size = 2, .api_key = "other", .cache_store = cache}));
  ASSERT_TRUE(other({"a", "bb"}));
  EXPECT_EQ(server.requests().size(), 5u);
}

TEST(Embedder, MisconfigurationIsAConfigError) {
  const auto code_of = [](dspy::Embedder e) { return e({"x"}).error().code(); };
  EXPECT_EQ(code_of(dspy::Embedder("anthropic/claude", {.api_key = "k"})), dspy::Errc::config);
  EXPECT_EQ(code_of(dspy::Embedder("custom/e")), dspy::Errc::config);
  EXPECT_EQ(code_of(dspy::Embedder("openai/e", {.api_base = "ftp://x", .api_key = "k"})), dspy::Errc::config);
  EXPECT_EQ(code_of(dspy::Embedder("openai/e", {.dimensions = 0, .api_base = "http://x", .api_key = "k"})),
            dspy::Errc::config);
  dspy::Embedder zero_batch("openai/e", {.batch_size = 0, .api_base = "http://127.0.0.1:9", .api_key = "k"});
  EXPECT_EQ(zero_batch({"x"}).error().code(), dspy::Errc::config);
}

TEST(Embedder, AFunctionEmbedsBatchByBatch) {
  std::vector<std::size_t> batches;
  dspy::Embedder embed(
      [&](const std::vector<std::string>& texts) {
        batches.push_back(texts.size());
        std::vector<std::vector<float>> out;
        for (const auto& t : texts) out.push_back({static_cast<float>(t.size()), 0.5F});
        return out;
      },
      {.batch_size = 2});
  auto m = embed({"a", "bb", "ccc"});
  ASSERT_TRUE(m) << m.error().message();
  EXPECT_EQ(batches, (std::vector<std::size_t>{2, 1}));
  EXPECT_EQ(m->values(), (std::vector<float>{1, 0.5F, 2, 0.5F, 3, 0.5F}));
  EXPECT_EQ(embed.model(), "<function>");
}

TEST(Embedder, AFunctionsWrongAnswersAreTypedErrors) {
  dspy::Embedder short_one([](const std::vector<std::string>&) { return std::vector<std::vector<float>>{{1}}; });
  auto e = short_one({"a", "b"});
  ASSERT_FALSE(e);
  EXPECT_NE(e.error().message().find("returned 1 vectors for 2 texts"), std::string::npos) << e.error().message();

  dspy::Embedder ragged([](const std::vector<std::string>&) { return std::vector<std::vector<float>>{{1}, {1, 2}}; });
  EXPECT_EQ(ragged({"a", "b"}).error().code(), dspy::Errc::bad_response);

  dspy::Embedder throwing([](const std::vector<std::string>&) -> std::vector<std::vector<float>> {
    throw std::runtime_error("model not loaded");
  });
  auto t = throwing({"a"});
  ASSERT_FALSE(t);
  EXPECT_NE(t.error().message().find("model not loaded"), std::string::npos) << t.error().message();
}

TEST(EmbeddingMatrix, NormalizeAndShapeChecks) {
  auto m = dspy::EmbeddingMatrix::from_rows({{3, 4}, {0, 0}});
  ASSERT_TRUE(m);
  m->normalize();
  EXPECT_EQ(m->values(), (std::vector<float>{0.6F, 0.8F, 0, 0}));
  EXPECT_FALSE(dspy::EmbeddingMatrix::from_values(3, {1, 2, 3, 4}));
  EXPECT_FALSE(dspy::EmbeddingMatrix::from_values(0, {1}));
}

float dot(std::span<const float> a, std::span<const float> b) {
  float s = 0;
  for (std::size_t i = 0; i < a.size(); ++i) s += a[i] * b[i];
  return s;
}

TEST(HashEmbedding, SharedWordsAreCloseAndVectorsHaveUnitLength) {
  const auto paris = dspy::testing::hash_embedding("Paris is the capital of France.", 128);
  const auto question = dspy::testing::hash_embedding("What is the capital city of France?", 128);
  const auto other = dspy::testing::hash_embedding("Photosynthesis turns light into sugar in plants.", 128);
  ASSERT_EQ(paris.size(), 128u);
  EXPECT_NEAR(dot(paris, paris), 1.0F, 1e-5F);
  EXPECT_GT(dot(paris, question), dot(paris, other) + 0.2F);
  EXPECT_EQ(paris, dspy::testing::hash_embedding("paris IS the capital of france", 128));  // case and punctuation
  // Stems meet through letter trigrams.
  EXPECT_GT(dot(dspy::testing::hash_embedding("capitals", 128), dspy::testing::hash_embedding("capital", 128)), 0.3F);
  const auto nothing = dspy::testing::hash_embedding("the of and", 128);
  EXPECT_EQ(dot(nothing, nothing), 0.0F);
}

TEST(Embedder, TheDemoServerServesTheHashEmbedding) {
  auto server = dspy::testing::DemoServer::start(DSPY_DEMO_SERVER, {"--simulate"});
  ASSERT_TRUE(server) << server.error().message();
  dspy::Embedder embed("openai/demo-embedding",
                       {.batch_size = 2, .caching = false, .dimensions = 64, .api_base = server->api_base(), .api_key = "none"});
  const std::vector<std::string> texts = {"Canberra is the capital of Australia.", "Mount Everest", "zebra"};
  auto m = embed(texts);
  ASSERT_TRUE(m) << m.error().message();
  ASSERT_EQ(m->rows(), 3u);
  for (std::size_t i = 0; i < texts.size(); ++i) {
    const auto expected = dspy::testing::hash_embedding(texts[i], 64);
    EXPECT_TRUE(std::equal(expected.begin(), expected.end(), m->row(i).begin(), m->row(i).end())) << i;
  }
  // The same vectors as little-endian float32 in base64, bit for bit.
  dspy::Embedder packed("openai/demo-embedding", {.caching = false,
                                                  .dimensions = 64,
                                                  .extra_body = {{"encoding_format", "base64"}},
                                                  .api_base = server->api_base(),
                                                  .api_key = "none"});
  auto p = packed(texts);
  ASSERT_TRUE(p) << p.error().message();
  EXPECT_EQ(*p, *m);
  dspy::Embedder too_wide("openai/demo-embedding",
                          {.caching = false, .dimensions = 5000, .api_base = server->api_base(), .api_key = "none"});
  auto e = too_wide({"x"});
  ASSERT_FALSE(e);
  EXPECT_EQ(e.error().code(), dspy::Errc::bad_request);
}

}  // namespace embedder_test
