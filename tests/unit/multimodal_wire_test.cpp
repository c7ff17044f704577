// Images, files and documents over real HTTP on loopback: the exact bodies both APIs receive
// (OpenAI content parts; Anthropic image and document blocks), and typed errors for what an API
// cannot take.
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <type_traits>
#include <vector>

#include <dspy/all.hpp>
#include <gtest/gtest.h>

#include "../support/http_test_server.hpp"

namespace multimodal_wire_test {

using dspy::test::TestServer;

struct Inspect {
  static constexpr std::string_view instructions = "Answer from the attachments.";
  struct Input {
    std::vector<dspy::Image> images;
    dspy::File report;
    dspy::Document note;
    std::string question;
  };
  struct Output {
    std::string answer;
  };
};

Inspect::Input attachments() {
  return {.images = {dspy::Image{"https://example.com/a.png"}, dspy::Image::from_bytes("\x89PNG", "image/png")},
          .report = dspy::File::from_bytes("%PDF-1", "r.pdf", "application/pdf"),
          .note = {.data = "Revenue grew 12%.", .title = "Q3"},
          .question = "What grew?"};
}

constexpr std::string_view kSystem =
    R"({"role":"system","content":"Your input fields are:\n1. `images` (list[Image]): \n2. `report` (File): \n)"
    R"(3. `note` (Document): \n    Type description of Document: A document containing text content that can be )"
    R"(referenced and cited. Include the full text content and optionally a title for proper referencing.\n)"
    R"(4. `question` (str):\nYour output fields are:\n1. `answer` (str):\nAll interactions will be structured in )"
    R"(the following way, with the appropriate values filled in.\n\n[[ ## images ## ]]\n{images}\n\n[[ ## report ## )"
    R"(]]\n{report}\n\n[[ ## note ## ]]\n{note}\n\n[[ ## question ## ]]\n{question}\n\n[[ ## answer ## ]]\n{answer}\n\n)"
    R"([[ ## completed ## ]]\nIn adhering to this structure, your objective is: \n        Answer from the attachments."})";

TEST(MultimodalWire, OpenAIGetsContentPartsInDspysOrder) {
  TestServer server;
  server.push({.body = dspy::test::openai_reply({"[[ ## answer ## ]]\nRevenue\n\n[[ ## completed ## ]]"})});
  auto lm = std::make_shared<dspy::LM>("openai/gpt-4o-mini",
                                       dspy::LMConfig{.api_base = server.base_url(), .api_key = "sk-test-multimodal-1", .cache = false});
  dspy::Predict<Inspect> predict;
  predict.set_lm(lm);
  const auto r = predict(attachments());
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->answer, "Revenue");
  const auto got = server.requests();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].body,
            std::string(R"({"model":"gpt-4o-mini","messages":[)") + std::string(kSystem) +
                R"(,{"role":"user","content":[{"type":"text","text":"[[ ## images ## ]]\n[\""},)"
                R"({"type":"image_url","image_url":{"url":"https://example.com/a.png"}},{"type":"text","text":"\", \""},)"
                R"({"type":"image_url","image_url":{"url":"data:image/png;base64,iVBORw=="}},)"
                R"({"type":"text","text":"\"]\n\n[[ ## report ## ]]\n"},)"
                R"({"type":"file","file":{"file_data":"data:application/pdf;base64,JVBERi0x","filename":"r.pdf"}},)"
                R"({"type":"text","text":"\n\n[[ ## note ## ]]\n"},)"
                R"({"type":"document","source":{"type":"text","media_type":"text/plain","data":"Revenue grew 12%."},)"
                R"("citations":{"enabled":true},"title":"Q3"},)"
                R"({"type":"text","text":"\n\n[[ ## question ## ]]\nWhat grew?\n\nRespond with the corresponding output )"
                R"(fields, starting with the field `[[ ## answer ## ]]`, and then ending with the marker for )"
                R"(`[[ ## completed ## ]]`."}]}]})");
}

TEST(MultimodalWire, AnthropicGetsImageAndDocumentBlocks) {
  TestServer server;
  server.push({.body = dspy::test::anthropic_reply("[[ ## answer ## ]]\nRevenue\n\n[[ ## completed ## ]]")});
  auto lm = std::make_shared<dspy::LM>("anthropic/claude-sonnet-4-5",
                                       dspy::LMConfig{.api_base = server.base_url(), .api_key = "sk-test-multimodal-1", .cache = false});
  dspy::Predict<Inspect> predict;
  predict.set_lm(lm);
  const auto r = predict(attachments());
  ASSERT_TRUE(r) << r.error().message();
  const auto got = server.requests();
  ASSERT_EQ(got.size(), 1u);
  const auto body = boost::json::parse(got[0].body).as_object();
  EXPECT_TRUE(body.at("system").as_string().starts_with("Your input fields are:"));
  ASSERT_EQ(body.at("messages").as_array().size(), 1u);
  EXPECT_EQ(boost::json::serialize(body.at("messages").at(0).at("content")),
            R"([{"type":"text","text":"[[ ## images ## ]]\n[\""},)"
            R"({"type":"image","source":{"type":"url","url":"https://example.com/a.png"}},{"type":"text","text":"\", \""},)"
            R"({"type":"image","source":{"type":"base64","media_type":"image/png","data":"iVBORw=="}},)"
            R"({"type":"text","text":"\"]\n\n[[ ## report ## ]]\n"},)"
            R"({"type":"document","source":{"type":"base64","media_type":"application/pdf","data":"JVBERi0x"},"title":"r.pdf"},)"
            R"({"type":"text","text":"\n\n[[ ## note ## ]]\n"},)"
            R"({"type":"document","source":{"type":"text","media_type":"text/plain","data":"Revenue grew 12%."},)"
            R"("citations":{"enabled":true},"title":"Q3"},)"
            R"({"type":"text","text":"\n\n[[ ## question ## ]]\nWhat grew?\n\nRespond with the corresponding output )"
            R"(fields, starting with the field `[[ ## answer ## ]]`, and then ending with the marker for )"
            R"(`[[ ## completed ## ]]`."}])");
}

struct Listen {
  struct Input {
    dspy::Audio clip;
  };
  struct Output {
    std::string transcript;
  };
};

TEST(MultimodalWire, AudioToAnthropicIsATypedErrorAndNothingIsSent) {
  TestServer server;
  auto lm = std::make_shared<dspy::LM>("anthropic/claude-sonnet-4-5",
                                       dspy::LMConfig{.api_base = server.base_url(), .api_key = "sk-test-multimodal-1", .cache = false});
  dspy::Predict<Listen> predict;
  predict.set_lm(lm);
  const auto r = predict({.clip = dspy::Audio::from_bytes("RIFF", "mpeg")});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), dspy::Errc::bad_request);
  EXPECT_NE(r.error().message().find("takes no audio input (message 1, user)"), std::string::npos) << r.error().message();
  EXPECT_TRUE(server.requests().empty());
}

TEST(MultimodalWire, AudioFormatsAreNamedAsOpenAINamesThem) {
  const auto parts = dspy::Audio::from_bytes("RIFF", "mpeg").format();
  EXPECT_EQ(boost::json::serialize(parts), R"([{"type":"input_audio","input_audio":{"data":"UklGRg==","format":"mp3"}}])");
  EXPECT_EQ((dspy::Audio{"x", "x-wav"}.wire_format()), "wav");
}

TEST(MediaFiles, LoadFromAPathWithTheMimeTypeOfItsExtension) {
  const auto dir = std::filesystem::temp_directory_path() / ("dspy_media_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "pixel.PNG", std::ios::binary) << "\x89PNG";
  std::ofstream(dir / "notes.unknown") << "?";
  const auto image = dspy::Image::from_path(dir / "pixel.PNG");
  ASSERT_TRUE(image) << image.error().message();
  EXPECT_EQ(image->url, "data:image/png;base64,iVBORw==");
  const auto file = dspy::File::from_path(dir / "pixel.PNG");
  ASSERT_TRUE(file);
  EXPECT_EQ(file->filename, "pixel.PNG");

  const auto missing = dspy::Image::from_path(dir / "none.png");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code(), dspy::Errc::io);
  EXPECT_NE(missing.error().message().find("none.png"), std::string::npos);
  const auto unknown = dspy::File::from_path(dir / "notes.unknown");
  ASSERT_FALSE(unknown);
  EXPECT_NE(unknown.error().message().find("unknown file extension"), std::string::npos);
  const auto not_audio = dspy::Audio::from_path(dir / "pixel.PNG");
  ASSERT_FALSE(not_audio);
  EXPECT_NE(not_audio.error().message().find("not an audio file (image/png)"), std::string::npos);
  std::filesystem::remove_all(dir);
}

TEST(MediaFiles, ImageUrlsAreCheckedWhenAsked) {
  EXPECT_TRUE(dspy::Image::from_url("https://example.com/x.png"));
  EXPECT_TRUE(dspy::Image::from_url("data:image/png;base64,AAAA"));
  EXPECT_TRUE(dspy::Image::from_url("gs://bucket/x.png"));
  EXPECT_FALSE(dspy::Image::from_url("ftp://example.com/x.png"));
  EXPECT_FALSE(dspy::Image::from_url("https:///nohost"));
  EXPECT_FALSE(dspy::Image::from_url("/tmp/x.png"));
}

TEST(MediaFiles, DataUrisAreRebuiltAsTheWireHasThem) {
  const auto part = dspy::Image{"data:image/png;charset=x;base64,AAAA"}.format();
  EXPECT_EQ(part.at(0).at("image_url").at("url").as_string(), "data:image/png;base64,AAAA");
}

// DSPy saves a media value as its marked content parts; that form loads back.
TEST(MediaFiles, SavedFormsRoundTrip) {
  const dspy::Image image{"https://example.com/a.png"};
  dspy::Image back;
  ASSERT_FALSE(dspy::from_json(dspy::to_json(image), back));
  EXPECT_EQ(back, image);
  const dspy::Document doc{.data = "d", .title = "t"};
  dspy::Document doc_back;
  ASSERT_FALSE(dspy::from_json(dspy::to_json(doc), doc_back));
  EXPECT_EQ(doc_back, doc);
  const auto file = dspy::File::from_file_id("file-1", "a.pdf");
  dspy::File file_back;
  ASSERT_FALSE(dspy::from_json(dspy::to_json(file), file_back));
  EXPECT_EQ(file_back, file);
  const auto audio = dspy::Audio::from_bytes("abc", "wav");
  dspy::Audio audio_back;
  ASSERT_FALSE(dspy::from_json(dspy::to_json(audio), audio_back));
  EXPECT_EQ(audio_back, audio);
}

struct Socks {
  struct Input {
    std::string question;
  };
  struct Output {
    dspy::Reasoning reasoning;
    int answer;
  };
};

// A reasoning model over HTTP: the Reasoning field leaves the prompt, reasoning_effort is sent,
// and the value is the reply's own reasoning (OpenAI-compatible reasoning_content).
TEST(NativeReasoning, OpenAICompatibleReasoningContentFillsTheField) {
  TestServer server;
  server.push({.body = R"({"choices":[{"index":0,"message":{"role":"assistant","content":"[[ ## answer ## ]]\n14",)"
                       R"("reasoning_content":"7 pairs, 2 each."}}],"usage":{"prompt_tokens":9,"completion_tokens":4}})"});
  auto lm = std::make_shared<dspy::LM>("openai/o3-mini", dspy::LMConfig{.api_base = server.base_url(),
                                                                         .api_key = "sk-test-reasoning-1",
                                                                         .cache = false});
  EXPECT_TRUE(lm->capabilities().reasoning);
  dspy::Predict<Socks> predict;
  predict.set_lm(lm);
  const auto r = predict({"How many socks in seven pairs?"});
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->reasoning.content, "7 pairs, 2 each.");
  EXPECT_EQ(r->answer, 14);
  const auto body = boost::json::parse(server.requests().at(0).body).as_object();
  EXPECT_EQ(body.at("reasoning_effort"), "low");
  // The field list and structure lose it; the default instructions, fixed with the signature, keep its name.
  EXPECT_EQ(body.at("messages").at(0).at("content").as_string().find("[[ ## reasoning ## ]]"), std::string::npos);
  EXPECT_NE(body.at("messages").at(0).at("content").as_string().find("Your output fields are:\n1. `answer` (int)"),
            std::string::npos);
}

struct SockCount {
  struct Input {
    std::string question;
  };
  struct Output {
    int answer;
  };
};

// DSPy's ChainOfThought(sig, rationale_field_type=dspy.Reasoning): with a reasoning model the
// `reasoning` field leaves the prompt (the request is Predict(sig)'s, with reasoning_effort) and
// takes the reply's own reasoning; with another model it is a `str` section, as by default.
TEST(NativeReasoning, ChainOfThoughtWithAReasoningRationaleTakesTheModelsOwnReasoning) {
  TestServer server;
  server.push({.body = R"({"choices":[{"index":0,"message":{"role":"assistant","content":"[[ ## answer ## ]]\n14",)"
                       R"("reasoning_content":"7 pairs, 2 each."}}],"usage":{"prompt_tokens":9,"completion_tokens":4}})"})
      .push({.body = dspy::test::openai_reply({"[[ ## reasoning ## ]]\nTwo each.\n\n[[ ## answer ## ]]\n14"})});
  dspy::ChainOfThought<SockCount, dspy::Reasoning> cot;
  static_assert(std::is_same_v<decltype(dspy::ChainOfThought<SockCount, dspy::Reasoning>::Output::reasoning), dspy::Reasoning>);
  cot.predict.set_lm(std::make_shared<dspy::LM>(
      "openai/o3-mini", dspy::LMConfig{.api_base = server.base_url(), .api_key = "sk-test-cot-1", .cache = false}));
  const auto r = cot({"How many socks in seven pairs?"});
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->reasoning.content, "7 pairs, 2 each.");
  EXPECT_EQ(r->answer, 14);
  EXPECT_EQ(
      server.requests().at(0).body,
      R"({"model":"o3-mini","messages":[{"role":"system","content":"Your input fields are:\n1. `question` (str):\nYour output )"
      R"(fields are:\n1. `answer` (int):\nAll interactions will be structured in the following way, with the appropriate )"
      R"(values filled in.\n\n[[ ## question ## ]]\n{question}\n\n[[ ## answer ## ]]\n{answer}        # note: the value you )"
      R"(produce must be a single int value\n\n[[ ## completed ## ]]\nIn adhering to this structure, your objective is: \n  )"
      R"(      Given the fields `question`, produce the fields `answer`."},{"role":"user","content":"[[ ## question ## ]]\nHow )"
      R"(many socks in seven pairs?\n\nRespond with the corresponding output fields, starting with the field `[[ ## )"
      R"(answer ## ]]` (must be formatted as a valid Python int), and then ending with the marker for `[[ ## completed ## )"
      R"(]]`."}],"reasoning_effort":"low"})");

  cot.predict.set_lm(std::make_shared<dspy::LM>(
      "openai/gpt-4o-mini", dspy::LMConfig{.api_base = server.base_url(), .api_key = "sk-test-cot-2", .cache = false}));
  const auto text = cot({"How many socks in seven pairs?"});
  ASSERT_TRUE(text) << text.error().message();
  EXPECT_EQ(text->reasoning.content, "Two each.");
  const auto body = server.requests().at(1).json();
  EXPECT_FALSE(body.as_object().contains("reasoning_effort"));
  EXPECT_NE(body.at("messages").at(0).at("content").as_string().find("1. `reasoning` (str): \n2. `answer` (int)"),
            std::string::npos)
      << body;
}

// With the JSONAdapter the native Reasoning field leaves the prompt and the structured-output
// schema alike. Beyond DSPy 3.3.1, whose JSONAdapter.__call__ builds response_format from the
// whole signature before Adapter._call_preprocess deletes the field (json_adapter.py, base.py), so
// that its strict schema demands a `reasoning` the prompt does not ask for.
TEST(NativeReasoning, TheJsonAdaptersSchemaLeavesOutTheNativeReasoningField) {
  TestServer server;
  server.push({.body = R"({"choices":[{"index":0,"message":{"role":"assistant","content":"{\"answer\": 14}",)"
                       R"("reasoning_content":"7 pairs, 2 each."}}],"usage":{"prompt_tokens":9,"completion_tokens":4}})"});
  dspy::Predict<Socks> predict;
  predict.adapter = dspy::JSONAdapter{};
  predict.set_lm(std::make_shared<dspy::LM>(
      "openai/o3-mini", dspy::LMConfig{.api_base = server.base_url(), .api_key = "sk-test-json-1", .cache = false}));
  const auto r = predict({"How many socks in seven pairs?"});
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->reasoning.content, "7 pairs, 2 each.");
  EXPECT_EQ(r->answer, 14);
  const auto body = server.requests().at(0).json();
  EXPECT_EQ(body.at("reasoning_effort"), "low");
  // The field list and the JSON structure lose it (the default instructions, fixed with the signature, keep its name).
  const std::string_view system = body.at("messages").at(0).at("content").as_string();
  EXPECT_EQ(system.find("`reasoning` (str)"), std::string::npos) << system;
  EXPECT_EQ(system.find("\"reasoning\":"), std::string::npos) << system;
  const auto& schema = body.at("response_format").at("json_schema").at("schema");
  EXPECT_EQ(schema.at("required"), (boost::json::array{"answer"}));
  EXPECT_FALSE(schema.at("properties").as_object().contains("reasoning"));

  // With a model that does not reason natively the field is in both.
  server.push({.body = dspy::test::openai_reply({R"({"reasoning": "Two each.", "answer": 14})"})});
  predict.set_lm(std::make_shared<dspy::LM>(
      "openai/gpt-4o-mini", dspy::LMConfig{.api_base = server.base_url(), .api_key = "sk-test-json-2", .cache = false}));
  const auto text = predict({"How many socks in seven pairs?"});
  ASSERT_TRUE(text) << text.error().message();
  EXPECT_EQ(text->reasoning.content, "Two each.");
  EXPECT_EQ(server.requests().at(1).json().at("response_format").at("json_schema").at("schema").at("required"),
            (boost::json::array{"reasoning", "answer"}));
}

// An explicit null effort keeps the field in the prompt, as a text section.
TEST(NativeReasoning, ANullEffortKeepsTheFieldAsText) {
  TestServer server;
  server.push({.body = dspy::test::anthropic_reply("[[ ## reasoning ## ]]\nTwo each.\n\n[[ ## answer ## ]]\n14")});
  auto lm = std::make_shared<dspy::LM>("anthropic/claude-sonnet-4-5", dspy::LMConfig{.api_base = server.base_url(),
                                                                                    .api_key = "sk-test-reasoning-2",
                                                                                    .cache = false});
  dspy::Predict<Socks> predict;
  predict.set_lm(lm);
  predict.config.extra["reasoning_effort"] = nullptr;
  const auto r = predict({"How many socks in seven pairs?"});
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->reasoning.content, "Two each.");
  const auto body = boost::json::parse(server.requests().at(0).body).as_object();
  EXPECT_NE(body.at("system").as_string().find("`reasoning` (str)"), std::string::npos);
}

// Anthropic's extended thinking: the thinking blocks are the reasoning.
TEST(NativeReasoning, AnthropicThinkingBlocksFillTheField) {
  TestServer server;
  server.push({.body = R"({"content":[{"type":"thinking","thinking":"Pairs of two.","signature":"s"},)"
                       R"({"type":"text","text":"[[ ## answer ## ]]\n14"}],"usage":{"input_tokens":5,"output_tokens":3}})"});
  dspy::LMConfig config{.api_base = server.base_url(), .api_key = "sk-test-reasoning-3", .cache = false};
  config.capabilities = dspy::LMCapabilities{.reasoning = true};
  auto lm = std::make_shared<dspy::LM>("anthropic/claude-custom", config);
  dspy::Predict<Socks> predict;
  predict.set_lm(lm);
  const auto r = predict({"How many socks in seven pairs?"});
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->reasoning.content, "Pairs of two.");
}

struct Cite {
  struct Input {
    std::vector<dspy::Document> documents;
    std::string question;
  };
  struct Output {
    std::string answer;
    dspy::Citations citations;
  };
};

// Anthropic cites natively: the Citations field leaves the prompt and is read from the text
// blocks' citations.
TEST(NativeCitations, AnthropicTextBlockCitationsFillTheField) {
  TestServer server;
  server.push({.body = R"({"content":[{"type":"text","text":"[[ ## answer ## ]]\n100 °C","citations":[)"
                       R"({"type":"char_location","cited_text":"Water boils at 100 °C.","document_index":0,)"
                       R"("document_title":"Physics","start_char_index":0,"end_char_index":22}]}],)"
                       R"("usage":{"input_tokens":5,"output_tokens":3}})"});
  auto lm = std::make_shared<dspy::LM>("anthropic/claude-sonnet-4-5", dspy::LMConfig{.api_base = server.base_url(),
                                                                                    .api_key = "sk-test-citations-1",
                                                                                    .cache = false});
  dspy::Predict<Cite> predict;
  predict.set_lm(lm);
  predict.config.extra["reasoning_effort"] = nullptr;
  const auto r = predict({.documents = {{.data = "Water boils at 100 °C.", .title = "Physics"}}, .question = "Boiling?"});
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->answer, "100 °C");
  ASSERT_EQ(r->citations.citations.size(), 1u);
  EXPECT_EQ(r->citations.citations[0].cited_text, "Water boils at 100 °C.");
  EXPECT_EQ(r->citations.citations[0].document_title, "Physics");
  EXPECT_EQ(r->citations.citations[0].end_char_index, 22);
  const auto body = boost::json::parse(server.requests().at(0).body).as_object();
  EXPECT_EQ(body.at("system").as_string().find("[[ ## citations ## ]]"), std::string::npos);
}

// OpenAI's Responses API (DSPy's model_type="responses"): messages as input items (images as
// input_image), the effort as `reasoning` with a summary, which comes back as the reasoning.
TEST(ResponsesApi, RequestAndReplyMapAsDspyMapsThem) {
  TestServer server;
  server.push({.body = R"({"id":"resp_1","output":[{"type":"reasoning","summary":[{"type":"summary_text",)"
                       R"("text":"Two socks a pair."}]},{"type":"message","role":"assistant","content":[)"
                       R"({"type":"output_text","text":"[[ ## answer ## ]]\n14"}]}],)"
                       R"("usage":{"input_tokens":30,"output_tokens":8,"total_tokens":38}})"});
  auto lm = std::make_shared<dspy::LM>("openai/gpt-5-mini", dspy::LMConfig{.api_base = server.base_url(),
                                                                          .api_key = "sk-test-responses-1",
                                                                          .max_tokens = 2000,
                                                                          .cache = false,
                                                                          .model_type = "responses"});
  struct Look {
    struct Input {
      dspy::Image photo;
      std::string question;
    };
    struct Output {
      dspy::Reasoning reasoning;
      int answer;
    };
  };
  dspy::Predict<Look> predict;
  predict.set_lm(lm);
  const auto r = predict({.photo = {"https://example.com/socks.png"}, .question = "How many socks?"});
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->answer, 14);
  EXPECT_EQ(r->reasoning.content, "Two socks a pair.");
  EXPECT_EQ(r.value().usage(), (dspy::Usage{30, 8, 38}));
  const auto got = server.requests();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].target, "/v1/responses");
  const auto body = boost::json::parse(got[0].body).as_object();
  EXPECT_EQ(body.at("model"), "gpt-5-mini");
  EXPECT_EQ(body.at("max_output_tokens"), 2000);
  EXPECT_EQ(boost::json::serialize(body.at("reasoning")), R"({"effort":"low","summary":"auto"})");
  EXPECT_FALSE(body.contains("reasoning_effort"));
  const auto& input = body.at("input").as_array();
  ASSERT_EQ(input.size(), 2u);
  EXPECT_EQ(input[0].at("role"), "system");
  EXPECT_EQ(input[0].at("content").at(0).at("type"), "input_text");
  EXPECT_EQ(boost::json::serialize(input[1].at("content")),
            R"([{"type":"input_text","text":"[[ ## photo ## ]]\n"},)"
            R"({"type":"input_image","image_url":"https://example.com/socks.png"},)"
            R"({"type":"input_text","text":"\n\n[[ ## question ## ]]\nHow many socks?\n\nRespond with the )"
            R"(corresponding output fields, starting with the field `[[ ## answer ## ]]` (must be formatted as a valid )"
            R"(Python int), and then ending with the marker for `[[ ## completed ## ]]`."}])");
}

TEST(ResponsesApi, StreamsOutputTextDeltas) {
  TestServer server;
  server.push({.body = "event: response.output_text.delta\ndata: {\"type\":\"response.output_text.delta\",\"delta\":\"Par\"}\n\n"
                       "event: response.output_text.delta\ndata: {\"type\":\"response.output_text.delta\",\"delta\":\"is\"}\n\n"
                       "event: response.completed\ndata: {\"type\":\"response.completed\",\"response\":{\"usage\":"
                       "{\"input_tokens\":3,\"output_tokens\":2,\"total_tokens\":5}}}\n\n",
               .headers = {{"Content-Type", "text/event-stream"}}});
  dspy::LM lm("openai/gpt-4o", {.api_base = server.base_url(), .api_key = "sk-test-responses-2", .cache = false,
                                .model_type = "responses"});
  std::string seen;
  dspy::LMRequest request;
  request.messages = {{"user", "Capital of France?"}};
  boost::asio::io_context io;
  const auto out = dspy::detail::sync_wait(io, lm.astream(request, [&](std::string_view piece) { seen += piece; }));
  ASSERT_TRUE(out) << out.error().message();
  EXPECT_EQ(seen, "Paris");
  EXPECT_EQ(out->completions.front(), "Paris");
  EXPECT_EQ(out->usage, (dspy::Usage{3, 2, 5}));
  EXPECT_TRUE(boost::json::parse(server.requests().at(0).body).at("stream").as_bool());
}

TEST(ResponsesApi, OnlyForOpenAICompatibleModels) {
  dspy::LM lm("anthropic/claude-sonnet-4-5", {.api_key = "sk-test-responses-3", .model_type = "responses"});
  const auto r = lm.call(dspy::LMRequest{.messages = {{"user", "Hi"}}});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), dspy::Errc::config);
  EXPECT_NE(r.error().message().find("Responses API"), std::string::npos);
  dspy::LM typo("openai/gpt-4o", {.api_key = "sk-test-responses-4", .model_type = "text"});
  EXPECT_NE(typo.call(dspy::LMRequest{.messages = {{"user", "Hi"}}}).error().message().find("must be \"chat\""),
            std::string::npos);
}

struct Caption {
  struct Input {
    dspy::Image image;
    dspy::History history;
  };
  struct Output {
    std::string caption;
  };
};

// Demos holding images and histories survive save and load, and a state saved by DSPy (media as
// its marked content parts, as Python's Predict.dump_state writes them) loads.
TEST(RichState, DemosWithImagesAndHistoriesRoundTripAndDspyStateLoads) {
  dspy::History history;
  history.messages.push_back({{"caption", "A cat."}});
  dspy::Predict<Caption> p;
  p.demos.push_back({.input = {.image = {"https://example.com/dog.png"}, .history = history},
                     .output = {.caption = "A dog."}});
  const auto state = p.dump_state();
  dspy::Predict<Caption> q;
  ASSERT_TRUE(q.load_state(state));
  ASSERT_EQ(q.demos.size(), 1u);
  EXPECT_EQ(q.demos[0].input.image.url, "https://example.com/dog.png");
  EXPECT_EQ(q.demos[0].input.history, history);
  EXPECT_EQ(q.dump_state(), state);

  const auto dspy_saved = boost::json::parse(R"({"traces": [], "train": [], "demos": [{"image":)"
      R"( "<<CUSTOM-TYPE-START-IDENTIFIER>>[{\"type\": \"image_url\", \"image_url\": {\"url\":)"
      R"( \"https://example.com/cat.jpg\"}}]<<CUSTOM-TYPE-END-IDENTIFIER>>", "history": {"messages": []},)"
      R"( "caption": "A cat."}], "signature": {"instructions": "Given the fields `image`, `history`, produce the)"
      R"( fields `caption`.", "fields": [{"prefix": "Image:", "description": "${image}"}, {"prefix": "History:",)"
      R"( "description": "${history}"}, {"prefix": "Caption:", "description": "${caption}"}]}, "lm": null})");
  dspy::Predict<Caption> r;
  ASSERT_TRUE(r.load_state(dspy_saved));
  ASSERT_EQ(r.demos.size(), 1u);
  EXPECT_EQ(r.demos[0].input.image.url, "https://example.com/cat.jpg");
  // The demo's user message carries the image as a part, as DSPy sends it.
  const auto messages = r.format({.image = {"https://example.com/x.png"}, .history = {}});
  bool demo_image = false;
  for (const auto& part : messages[1].content.parts())
    demo_image = demo_image || (part.at("type") == "image_url" && part.at("image_url").at("url") == "https://example.com/cat.jpg");
  EXPECT_TRUE(demo_image);
}

}  // namespace multimodal_wire_test
