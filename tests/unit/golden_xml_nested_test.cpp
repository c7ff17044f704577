// The DSPy 3.3.1 vectors of XMLAdapter's nested outputs (xml_nested_*), byte for byte, and the
// rules behind them that the vectors do not show (maps, escaping, optional structs, errors).
#include <map>
#include <optional>
#include <utility>
#include <span>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "golden_signatures.hpp"
#include "golden_vectors.hpp"

namespace golden_xml_nested_test {

namespace json = boost::json;
using golden::vector_named;

struct Home {
  std::string city;
  std::string country;
};

struct Person {
  std::string name;
  int age;
  Home home;
  std::vector<std::string> languages;
  std::optional<std::string> email;
};

struct ExtractPersonTopics {
  static constexpr std::string_view instructions = "Extract the person and the topics from the text.";
  struct Input {
    std::string text;
  };
  struct Output {
    Person person;
    std::vector<std::string> topics;
  };
};

using Sig = ExtractPersonTopics;

TEST(XmlNestedGolden, SignatureIsTheVectors) {
  const auto v = vector_named("xml_nested_format");
  const auto& outputs = v.at("signature").at("outputs").as_array();
  const dspy::SignatureMeta& meta = dspy::signature_meta<Sig>();
  ASSERT_EQ(meta.outputs.size(), outputs.size());
  for (std::size_t i = 0; i < outputs.size(); ++i) {
    EXPECT_EQ(meta.outputs[i].name, outputs[i].at("name").as_string());
    EXPECT_EQ(meta.outputs[i].type_name, outputs[i].at("type").as_string());
  }
  EXPECT_EQ(meta.default_instructions, v.at("signature").at("instructions").as_string());
}

TEST(XmlNestedGolden, Format) {
  const auto v = vector_named("xml_nested_format");
  std::vector<dspy::Demo<Sig>> demos;
  for (const auto& d : v.at("demos").as_array()) {
    auto demo = dspy::demo_from_json<Sig>(d.as_object());
    ASSERT_TRUE(demo) << demo.error().message();
    demos.push_back(*demo);
  }
  Sig::Input input{};
  ASSERT_FALSE(dspy::from_json(v.at("inputs"), input).has_value());
  const auto messages = dspy::format_messages<Sig>(dspy::XMLAdapter{}, dspy::signature_meta<Sig>().default_instructions,
                                                   std::span<const dspy::Demo<Sig>>(demos), input);
  EXPECT_EQ(messages, golden::messages_of(v.at("messages")));
  dspy::Predict<Sig> predict;
  predict.demos = demos;
  predict.adapter = dspy::XMLAdapter{};
  EXPECT_EQ(predict.format(input), messages);
}

TEST(XmlNestedGolden, Parse) {
  const auto v = vector_named("xml_nested_parse");
  std::vector<dspy::ParseNote> notes;
  const auto result =
      dspy::parse_completion<Sig>(dspy::XMLAdapter{}, v.at("response").at("content").as_string(), &notes);
  ASSERT_TRUE(result) << result.error().message();
  EXPECT_EQ(dspy::to_json(*result), v.at("expected"));
  EXPECT_TRUE(notes.empty());
  EXPECT_EQ(result->person.name, "Ada & Co");
  EXPECT_FALSE(result->person.email.has_value());
}

// Beyond the vectors: each rule of spec section 8, with the expected text computed by DSPy 3.3.1's
// own XMLAdapter._xml_schema / _value_to_xml / _elements_to_value (pydantic 2.13).
struct Rich {
  struct Input {
    std::string q;
  };
  struct Output {
    std::optional<Person> best;
    std::map<std::string, std::optional<double>> scores;
    std::vector<std::vector<std::string>> grid;
    std::vector<Person> people;
    std::map<std::string, Person> by_name;
    std::optional<std::vector<int>> ids;
    std::string note;
    bool flag;
  };
};

constexpr std::string_view kPersonSkeleton =
    "<name>...</name><age>...</age><home><city>...</city><country>...</country></home><languages><item>...</item>"
    "</languages><email>...</email>";

TEST(XmlNested, SkeletonsFollowTheSchema) {
  const dspy::SignatureView& view = dspy::signature_view<Rich>();
  const auto skeleton = [&](std::string_view field) { return view.outputs[view.output_index(field)].xml_schema; };
  EXPECT_EQ(skeleton("best"), "<best>" + std::string(kPersonSkeleton) + "</best>");  // Optional: its value's
  EXPECT_EQ(skeleton("scores"), "<scores>...</scores>");  // a dict declares no fields
  EXPECT_EQ(skeleton("grid"), "<grid><item><item>...</item></item></grid>");
  EXPECT_EQ(skeleton("people"), "<people><item>" + std::string(kPersonSkeleton) + "</item></people>");
  EXPECT_EQ(skeleton("by_name"), "<by_name>...</by_name>");
  EXPECT_EQ(skeleton("ids"), "<ids><item>...</item></ids>");
  EXPECT_FALSE(view.outputs[view.output_index("note")].nested);
  EXPECT_FALSE(view.outputs[view.output_index("flag")].nested);
  EXPECT_FALSE(view.inputs[0].nested);  // inputs are never nested
}

TEST(XmlNested, DemoValuesAreCompactXmlWithDSPysEscaping) {
  dspy::Demo<Rich> demo;
  demo.input.q = "a < b & c";  // inputs: as is
  demo.output.scores = {{"1x", 2.5}, {"a-b", 1.0}, {"say \"hi\" & 'bye' <ok>", 0.5}, {"x.y", std::nullopt}};
  demo.output.grid = {{"a<b", "c&d"}, {}};
  demo.output.by_name = {{"k\"", Person{"A", 1, {"c", "d"}, {}, std::nullopt}}};
  demo.output.ids = std::vector<int>{};
  demo.output.note = "x < y & z";
  demo.output.flag = true;
  const auto messages = dspy::format_messages<Rich>(dspy::XMLAdapter{}, "Do it.", std::span(&demo, 1), {"q"});
  ASSERT_EQ(messages.size(), 4u);
  EXPECT_EQ(messages[1].content,
            "This is an example of the task, though some input or output fields are not supplied.\n\n<q>\na < b & c\n</q>");
  EXPECT_EQ(messages[2].content,
            "<best>\nNone\n</best>\n\n"
            "<scores><entry key=\"1x\">2.5</entry><a-b>1.0</a-b><entry key=\"say &quot;hi&quot; &amp; 'bye' "
            "&lt;ok&gt;\">0.5</entry><x.y /></scores>\n\n"
            "<grid><item><item>a&lt;b</item><item>c&amp;d</item></item><item /></grid>\n\n"
            "<people />\n\n"
            "<by_name><entry key='k\"'><name>A</name><age>1</age><home><city>c</city><country>d</country></home>"
            "<languages /><email /></entry></by_name>\n\n"
            "<ids />\n\n"
            "<note>\nx &lt; y &amp; z\n</note>\n\n"
            "<flag>\nTrue\n</flag>");
}

TEST(XmlNested, HistoryValuesUseTheSameFormatter) {
  // A conversation turn holds JSON values: the formatter the demos use takes them as they are.
  const dspy::SignatureView& view = dspy::signature_view<Rich>();
  std::string out;
  dspy::detail::append_xml_output(out, view.outputs[view.output_index("grid")], json::parse(R"([["a"], []])"));
  EXPECT_EQ(out, "<grid><item><item>a</item></item><item /></grid>");
  out.clear();
  dspy::detail::append_xml_output(out, view.outputs[view.output_index("note")], json::string("1 < 2"));
  EXPECT_EQ(out, "<note>\n1 &lt; 2\n</note>");
  out.clear();
  dspy::detail::append_xml_output(out, view.outputs[view.output_index("best")], nullptr);
  EXPECT_EQ(out, "<best>\nNone\n</best>");
  out.clear();
  dspy::detail::append_xml_output(out, view.outputs[view.output_index("flag")], false);
  EXPECT_EQ(out, "<flag>\nFalse\n</flag>");
}

TEST(XmlNested, ParsesModelsListsMapsAndOptionalsWithEntitiesDecoded) {
  const auto r = dspy::parse_completion<Rich>(
      dspy::XMLAdapter{},
      "<best>\n <name>Ann &#233;</name><age> 7 </age><home><city>c</city><country>d</country></home>"
      "<languages /></best>\n"
      "<scores><entry key=\"say &quot;hi&quot; &amp; 'bye' &lt;ok&gt;\">0.5</entry><a-b>1</a-b><x.y /></scores>\n"
      "<grid><item><item>a &lt; b</item></item><item /></grid>\n"
      "<people><item><name>A</name><age>1</age><home><city>c</city><country>d</country></home>"
      "<languages><item>x</item></languages></item></people>\n"
      "<by_name><entry key=\"Ann B\"><name>B</name><age>2</age><home><city>c</city><country>d</country></home>"
      "<languages /></entry></by_name>\n"
      "<ids>[1, 2]</ids>\n<note>\n x &amp; y \n</note>\n<flag>True</flag>");
  ASSERT_TRUE(r) << r.error().message();
  ASSERT_TRUE(r->best.has_value());
  EXPECT_EQ(r->best->name, "Ann \u00e9");
  EXPECT_EQ(r->best->age, 7);
  EXPECT_TRUE(r->best->languages.empty());
  EXPECT_FALSE(r->best->email.has_value());
  EXPECT_EQ(r->scores.at("say \"hi\" & 'bye' <ok>"), 0.5);
  EXPECT_EQ(r->scores.at("a-b"), 1.0);
  EXPECT_FALSE(r->scores.at("x.y").has_value());
  EXPECT_EQ(r->grid, (std::vector<std::vector<std::string>>{{"a < b"}, {}}));
  ASSERT_EQ(r->people.size(), 1u);
  EXPECT_EQ(r->people[0].languages, std::vector<std::string>{"x"});
  EXPECT_EQ(r->by_name.at("Ann B").age, 2);
  EXPECT_EQ(r->ids, (std::vector<int>{1, 2}));
  EXPECT_EQ(r->note, "x & y");
  EXPECT_TRUE(r->flag);

  const auto none = dspy::parse_completion<Rich>(
      dspy::XMLAdapter{}, "<best /><scores /><grid /><people /><by_name /><ids /><note>n</note><flag>False</flag>");
  ASSERT_TRUE(none) << none.error().message();
  EXPECT_FALSE(none->best.has_value());
  EXPECT_FALSE(none->ids.has_value());
  EXPECT_TRUE(none->scores.empty());
}

TEST(XmlNested, MalformedXmlIsDSPysError) {
  // A bare `&` is not XML. Beyond DSPy, each field's text is read between its tags; a nested
  // field's markup does not read that way, so the error is DSPy's.
  const std::string reply = "<person><name>Ada & Co</name><age>36</age></person><topics />";
  const auto r = dspy::parse_completion<Sig>(dspy::XMLAdapter{}, reply);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), dspy::Errc::parse_error);
  // Worded as ElementTree (expat) words it, at its line and column in "<dspy_root>" + reply.
  EXPECT_EQ(r.error().message(),
            "Failed to parse XML: not well-formed (invalid token): line 1, column 30\n\nAdapter XMLAdapter failed to "
            "parse the LM response. \n\nLM Response: " +
                reply + " \n\nExpected to find output fields in the LM response: [person, topics] \n\n");
}

using golden::TextMetrics;

TEST(XmlNested, AFieldThatDoesNotConvertIsNamedByItsFieldInfoAsDSPyNamesIt) {
  // Both messages from DSPy 3.3.1's XMLAdapter.parse on the same signature and replies.
  const std::string reply =
      "<word_count>five</word_count><score>0.5</score><is_question>True</is_question><keywords></keywords>";
  const auto r = dspy::parse_completion<TextMetrics>(dspy::XMLAdapter{}, reply);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), dspy::Errc::type_mismatch);
  EXPECT_EQ(r.error().field(), "word_count");
  EXPECT_EQ(r.error().message(),
            "Failed to parse field annotation=int required=True json_schema_extra={'__dspy_field_type': 'output', "
            "'prefix': 'Word Count:', 'desc': '${word_count}'} with value five: 1 validation error for int\n  Input "
            "should be a valid integer, unable to parse string as an integer [type=int_parsing, input_value='five', "
            "input_type=str]\n    For further information visit https://errors.pydantic.dev/2.13/v/int_parsing\n\n"
            "Adapter XMLAdapter failed to parse the LM response. \n\nLM Response: " +
                reply +
                " \n\nExpected to find output fields in the LM response: [word_count, score, is_question, keywords] "
                "\n\n");
  const std::string high =
      "<word_count>5</word_count><score>high</score><is_question>True</is_question><keywords></keywords>";
  const auto h = dspy::parse_completion<TextMetrics>(dspy::XMLAdapter{}, high);
  ASSERT_FALSE(h);
  EXPECT_EQ(h.error().message().substr(0, h.error().message().find("\n")),
            "Failed to parse field annotation=float required=True json_schema_extra={'desc': 'between 0 and 1', "
            "'__dspy_field_type': 'output', 'prefix': 'Score:'} with value high: 1 validation error for float");
  // Optional fields print as pydantic prints them.
  EXPECT_EQ(dspy::detail::pydantic_annotation("dict[str, Optional[list[Optional[int]]]]"),
            "dict[str, Union[list[Union[int, NoneType]], NoneType]]");
}

TEST(XmlNested, ReplyErrorsAreWordedAsExpatWordsThem) {
  // Each checked against ElementTree.fromstring("<dspy_root>" + reply + "</dspy_root>").
  const std::pair<std::string_view, std::string_view> cases[] = {
      {"<answer>\na & b\n</answer>", "not well-formed (invalid token): line 2, column 3"},
      {"<a>x &foo; y</a>", "undefined entity: line 1, column 16"},
      {"<a>1 < 2</a>", "not well-formed (invalid token): line 1, column 17"},
      {"<a>ééé</b>", "mismatched tag: line 1, column 19"},
      {"<a>unclosed", "mismatched tag: line 1, column 24"},
      {"<a><!-- x</a>", "unclosed token: line 1, column 14"},
      {"<a>&#0;</a>", "reference to invalid character number: line 1, column 14"},
      {"<a x=1>t</a>", "not well-formed (invalid token): line 1, column 16"},
      {"<a><![CDATA[x</a>", "unclosed CDATA section: line 1, column 40"},
      {"<a x='1' x='2'>t</a>", "duplicate attribute: line 1, column 20"},
      {"<a>x</a>\r\n<b>&</b>", "not well-formed (invalid token): line 2, column 4"},
      {"<a/>\n <b k='&zz;'/>", "undefined entity: line 2, column 1"},
  };
  for (const auto& [reply, message] : cases) {
    dspy::detail::XmlReader reader(reply);
    EXPECT_FALSE(reader.parse_root()) << reply;
    EXPECT_EQ(reader.error(), message) << reply;
  }
}

TEST(XmlNested, AReplyThatDoesNotParseIsAskedAgainWithTheJSONAdapter) {
  auto lm = std::make_shared<dspy::testing::ScriptedLM>(std::vector<std::string>{
      "<person><name>Ada & Co</name></person>",
      R"({"person": {"name": "Ada", "age": 36, "home": {"city": "L", "country": "UK"}, "languages": [], "email": null},
          "topics": ["math"]})"});
  dspy::Predict<Sig> predict;
  predict.set_lm(lm);
  predict.adapter = dspy::XMLAdapter{};
  const auto r = predict({"Ada"});
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ((*r).adapter(), "JSONAdapter");
  EXPECT_EQ(r->person.age, 36);

  dspy::Predict<Sig> strict;
  strict.set_lm(std::make_shared<dspy::testing::ScriptedLM>(std::vector<std::string>{"<person>x</person>"}));
  strict.adapter = dspy::XMLAdapter{.use_json_adapter_fallback = false};
  EXPECT_FALSE(strict({"Ada"}));
}

}  // namespace golden_xml_nested_test
