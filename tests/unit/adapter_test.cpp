// Adapters beyond the golden vectors: what LMs really send, nested XML, demo rules.
#include <gtest/gtest.h>

#include "golden_signatures.hpp"

namespace adapter_test {

using namespace golden;

template <class Sig, class Adapter>
dspy::Result<typename Sig::Output> parse(const Adapter& a, std::string_view text,
                                         std::vector<dspy::ParseNote>* notes = nullptr) {
  return dspy::parse_completion<Sig>(a, text, notes);
}

TEST(ChatAdapter, ToleratesSloppyHeadersAndLineEndings) {
  auto r = parse<QA>(dspy::ChatAdapter{}, "[[## answer ##]]\r\nParis\r\n[[ ## completed ## ]]");
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->answer, "Paris");
  r = parse<QA>(dspy::ChatAdapter{}, "   [[ ## answer ## ]]   Lyon  ");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->answer, "Lyon");
}

TEST(ChatAdapter, UnknownSectionsAndPreambleAreIgnored) {
  const auto r = parse<QAWithReasoning>(dspy::ChatAdapter{},
                                        "Sure!\n[[ ## notes ## ]]\nignore me\n[[ ## reasoning ## ]]\nr\n"
                                        "[[ ## answer ## ]]\na\n[[ ## completed ## ]]\ntrailing");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->reasoning, "r");
  EXPECT_EQ(r->answer, "a");
}

TEST(ChatAdapter, MissingOptionalOutputIsNone) {
  struct Sig {
    struct Input {
      std::string q;
    };
    struct Output {
      std::string a;
      std::optional<int> n;
    };
  };
  const auto r = parse<Sig>(dspy::ChatAdapter{}, "[[ ## a ## ]]\nx");
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_FALSE(r->n.has_value());
}

TEST(ChatAdapter, TypeMismatchNamesTheField) {
  const auto r = parse<TextMetrics>(dspy::ChatAdapter{},
                                    "[[ ## word_count ## ]]\n3\n[[ ## score ## ]]\nhigh\n[[ ## is_question ## ]]\nno\n"
                                    "[[ ## keywords ## ]]\n[]");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), dspy::Errc::type_mismatch);
  EXPECT_EQ(r.error().field(), "score");
  EXPECT_TRUE(r.error().message().starts_with("Failed to parse field score with value high from the LM response."));
}

TEST(JSONAdapter, ReadsFencedJsonAndConvertsValues) {
  std::vector<dspy::ParseNote> notes;
  const auto r = parse<TextMetrics>(dspy::JSONAdapter{},
                                    "```json\n{\"word_count\": \"5\", \"score\": 1, \"is_question\": \"True\", "
                                    "\"keywords\": [\"a\"], \"extra\": 1}\n```",
                                    &notes);
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->word_count, 5);
  EXPECT_DOUBLE_EQ(r->score, 1.0);
  EXPECT_TRUE(r->is_question);
  ASSERT_FALSE(notes.empty());
  EXPECT_EQ(notes[0].note, "removed a code fence");
}

TEST(JSONAdapter, ErrorsAsDSPyWordsThem) {
  auto r = parse<QA>(dspy::JSONAdapter{}, "just text");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), dspy::Errc::parse_error);
  EXPECT_EQ(r.error().message(),
            "LM response cannot be serialized to a JSON object.\n\nAdapter JSONAdapter failed to parse the LM "
            "response. \n\nLM Response: just text \n\nExpected to find output fields in the LM response: [answer] \n\n");
  r = parse<QA>(dspy::JSONAdapter{}, "{\"other\": 1}");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), dspy::Errc::missing_field);
  EXPECT_TRUE(r.error().message().ends_with("Actual output fields parsed from the LM response: [] \n\n"));
}

TEST(JSONAdapter, DemosAreIndentedJson) {
  dspy::Demo<TextMetrics> demo{.input = {"How are you?"}, .output = {3, 0.5, true, {"how"}}};
  demo.omit<"keywords">();
  const auto messages = dspy::format_messages<TextMetrics>(dspy::JSONAdapter{}, "Do it.",
                                                           std::span<const dspy::Demo<TextMetrics>>(&demo, 1), {"x"});
  ASSERT_EQ(messages.size(), 4u);
  EXPECT_EQ(messages[2].content.text(),
            "{\n  \"word_count\": 3,\n  \"score\": 0.5,\n  \"is_question\": true,\n  \"keywords\": \"Not supplied for "
            "this particular example. \"\n}");
  EXPECT_TRUE(messages[1].content.text().starts_with("This is an example of the task"));
}

TEST(XMLAdapter, NestedOutputsUseNestedXml) {
  const auto messages = dspy::format_messages<TextMetrics>(dspy::XMLAdapter{}, "Do it.", {}, {"x"});
  EXPECT_NE(messages[0].content.text().find("<keywords><item>...</item></keywords>"), std::string::npos) << messages[0].content.text();
  EXPECT_TRUE(messages[1].content.text().ends_with(
      "Respond with the corresponding output fields wrapped in XML tags `<word_count>`, then `<score>`, then "
      "`<is_question>`, then `<keywords>`. Use this nested XML structure: <keywords><item>...</item></keywords>"));

  const dspy::Demo<ExtractPerson> demo{.input = {"Ann is 31."}, .output = {{"Ann & Bo", 31}}};
  const auto with_demo = dspy::format_messages<ExtractPerson>(
      dspy::XMLAdapter{}, "x", std::span<const dspy::Demo<ExtractPerson>>(&demo, 1), {"t"});
  EXPECT_EQ(with_demo[2].content.text(), "<person><name>Ann &amp; Bo</name><age>31</age></person>");
}

TEST(XMLAdapter, ParsesNestedValuesBackIntoStructs) {
  auto r = parse<TextMetrics>(dspy::XMLAdapter{},
                              "<word_count>4</word_count>\n<score>0.25</score><is_question>False</is_question>"
                              "<keywords><item>a &amp; b</item><item>c</item></keywords>");
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->keywords, (std::vector<std::string>{"a & b", "c"}));
  EXPECT_FALSE(r->is_question);

  const auto p = parse<ExtractPerson>(dspy::XMLAdapter{}, "<person><name>Ann</name><age>31</age></person>");
  ASSERT_TRUE(p) << p.error().message();
  EXPECT_EQ(p->person.name, "Ann");
  EXPECT_EQ(p->person.age, 31);

  const auto counts = parse<WordCounts>(dspy::XMLAdapter{}, "<counts><a>2</a><entry key=\"b c\">1</entry></counts>");
  ASSERT_TRUE(counts) << counts.error().message();
  EXPECT_EQ(counts->counts.at("b c"), 1);
  EXPECT_EQ(counts->counts.at("a"), 2);
}

TEST(XMLAdapter, UnescapedMarkupFallsBackToTagSearch) {
  std::vector<dspy::ParseNote> notes;
  const auto r = parse<QA>(dspy::XMLAdapter{}, "<answer>\nx < y & z\n</answer>", &notes);
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->answer, "x < y & z");
  ASSERT_EQ(notes.size(), 1u);
  EXPECT_NE(notes[0].note.find("without an XML parser"), std::string::npos);

  const auto bad = parse<QA>(dspy::XMLAdapter{}, "<answer>unclosed");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code(), dspy::Errc::parse_error);
  EXPECT_TRUE(bad.error().message().starts_with("Failed to parse XML: "));
}

TEST(Demos, DemosWithoutInputsOrOutputsAreDropped) {
  std::vector<dspy::Demo<QA>> demos(3, dspy::Demo<QA>{.input = {"q"}, .output = {"a"}});
  demos[0].omit<"answer">();    // no output: dropped
  demos[1].omit<"question">();  // no input: dropped
  const auto m = dspy::format_messages<QA>(dspy::ChatAdapter{}, "x", demos, {"final"});
  EXPECT_EQ(m.size(), 4u);  // system, the one complete demo, the input
}

TEST(Demos, OptionalNoneMakesADemoIncomplete) {
  struct Sig {
    struct Input {
      std::string q;
    };
    struct Output {
      std::optional<std::string> a;
      std::string b;
    };
  };
  const dspy::Demo<Sig> demo{.input = {"q"}, .output = {std::nullopt, "b"}};
  const auto m = dspy::format_messages<Sig>(dspy::ChatAdapter{}, "x", std::span<const dspy::Demo<Sig>>(&demo, 1), {"f"});
  ASSERT_EQ(m.size(), 4u);
  EXPECT_TRUE(m[1].content.text().starts_with("This is an example of the task"));
  EXPECT_EQ(m[2].content.text(), "[[ ## a ## ]]\nNone\n\n[[ ## b ## ]]\nb\n\n[[ ## completed ## ]]\n");
}

TEST(Signature, MetaDescribesFieldsOnce) {
  const auto& meta = dspy::signature_meta<TextMetrics>();
  EXPECT_EQ(&meta, &dspy::signature_meta<TextMetrics>());
  ASSERT_EQ(meta.outputs.size(), 4u);
  EXPECT_EQ(meta.outputs[3].type_name, "list[str]");
  EXPECT_EQ(meta.outputs[1].desc, "between 0 and 1");
  EXPECT_EQ(dspy::signature_meta<DefaultInstructions>().default_instructions,
            "Given the fields `question`, produce the fields `answer`.");
}

}  // namespace adapter_test
