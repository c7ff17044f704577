// The DSPy 3.3.1 vectors of XMLAdapter's nested outputs (xml_nested_*), byte for byte, and the
// rules behind them that the vectors do not show (maps, escaping, optional structs, errors).
#include <map>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "golden_vectors.hpp"

namespace golden_xml_nested_test {

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

}  // namespace golden_xml_nested_test
