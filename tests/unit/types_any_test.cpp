// boost::json::object (DSPy's dict[str, Any]) and boost::json::value (Any) as field types.
#include <gtest/gtest.h>

#include <dspy/all.hpp>

namespace types_any_test {

namespace json = boost::json;

struct PickArgs {
  static constexpr std::string_view instructions = "Pick a tool.";
  struct Input {
    std::string question;
  };
  struct Output {
    json::object args;
    json::value extra;
  };
};

struct WithAny {
  std::string name;
  json::value extra;
  std::optional<json::object> meta;
};

template <class T>
std::string rendered(const T& v) {
  std::string s;
  dspy::render_value(s, v);
  return s;
}

TEST(TypesAny, DSPyTypeNames) {
  EXPECT_EQ(dspy::dspy_type_name<json::object>(), "dict[str, Any]");
  EXPECT_EQ(dspy::dspy_type_name<json::value>(), "Any");
  EXPECT_EQ(dspy::dspy_type_name<std::vector<json::object>>(), "list[dict[str, Any]]");
  EXPECT_EQ((dspy::dspy_type_name<std::map<std::string, json::value>>()), "dict[str, Any]");
  static_assert(dspy::FieldType<json::object> && dspy::FieldType<json::value> && dspy::FieldType<WithAny>);
  static_assert(!dspy::FieldType<json::array>);
}

// pydantic 2: TypeAdapter(dict[str, Any]) -> {'additionalProperties': True, 'type': 'object'},
// TypeAdapter(Any) -> {}, and a model field of type Any gets only its title; printed with DSPy's
// key order ("type" first, then sorted).
TEST(TypesAny, SchemasAsPydanticWritesThem) {
  EXPECT_EQ(dspy::json_schema_text<json::object>(), R"({"type": "object", "additionalProperties": true})");
  EXPECT_EQ(dspy::json_schema_text<json::value>(), "{}");
  EXPECT_EQ(dspy::json_schema_text<WithAny>(),
            R"({"type": "object", "properties": {"extra": {"title": "Extra"}, "meta": {"anyOf": [{"type": )"
            R"("object", "additionalProperties": true}, {"type": "null"}], "default": null, "title": "Meta"}, )"
            R"("name": {"type": "string", "title": "Name"}}, "required": ["name", "extra"], "title": "WithAny"})");
}

TEST(TypesAny, RenderedAsDSPyFormatsFieldValues) {
  EXPECT_EQ(rendered(json::object{{"query", "café"}, {"n", 2}}), R"({"query": "café", "n": 2})");
  EXPECT_EQ(rendered(json::object{}), "{}");
  EXPECT_EQ(rendered(json::value("plain text")), "plain text");
  EXPECT_EQ(rendered(json::value(true)), "True");
  EXPECT_EQ(rendered(json::value(nullptr)), "None");
  EXPECT_EQ(rendered(json::value(2.0)), "2.0");
  EXPECT_EQ(rendered(json::value(7)), "7");
  EXPECT_EQ(rendered(json::value{1, "a", nullptr}), R"([1, "a", null])");
  EXPECT_EQ(rendered(WithAny{"x", json::value{{"k", false}}, std::nullopt}),
            R"({"name": "x", "extra": {"k": false}, "meta": null})");
}

TEST(TypesAny, ParsedFromLMText) {
  json::object o;
  EXPECT_FALSE(dspy::parse_text(R"({"query": "x", "limit": 3})", o));
  EXPECT_EQ(o, (json::object{{"query", "x"}, {"limit", 3}}));

  std::vector<dspy::ParseNote> notes;
  EXPECT_FALSE(dspy::parse_text("```json\n{'a': True, 'b': None}\n```", o, {&notes, "args"}));
  EXPECT_EQ(o, (json::object{{"a", true}, {"b", nullptr}}));
  EXPECT_FALSE(notes.empty());

  const auto err = dspy::parse_text("[1, 2]", o);
  ASSERT_TRUE(err);
  EXPECT_EQ(*err, "expected an object, got an array [1,2]");
  EXPECT_TRUE(dspy::parse_text("not json at all", o));

  // Any: JSON when the text is JSON (or a Python literal), else the text itself.
  json::value v;
  EXPECT_FALSE(dspy::parse_text("42", v));
  EXPECT_EQ(v, json::value(42));
  EXPECT_FALSE(dspy::parse_text("[1, 'two']", v));
  EXPECT_EQ(v, (json::value{1, "two"}));
  EXPECT_FALSE(dspy::parse_text("Paris", v));
  EXPECT_EQ(v, json::value("Paris"));
}

TEST(TypesAny, JsonRoundTripAndErrors) {
  const WithAny in{"n", json::value{1, 2}, json::object{{"m", "v"}}};
  const json::value j = dspy::to_json(in);
  EXPECT_EQ(j, (json::value{{"name", "n"}, {"extra", {1, 2}}, {"meta", {{"m", "v"}}}}));
  WithAny out;
  ASSERT_FALSE(dspy::from_json(j, out));
  EXPECT_EQ(out.extra, in.extra);
  EXPECT_EQ(out.meta, in.meta);

  const json::value bad = {{"name", "n"}, {"extra", nullptr}, {"meta", "text"}};
  const auto err = dspy::from_json(bad, out);
  ASSERT_TRUE(err);
  EXPECT_EQ(*err, "`meta`: expected an object, got a string \"text\"");
}

TEST(TypesAny, PromptAndParseThroughPredict) {
  auto lm = std::make_shared<dspy::testing::ScriptedLM>(std::vector<std::string>{
      "[[ ## args ## ]]\n{\"city\": \"Paris\", \"days\": 2}\n\n[[ ## extra ## ]]\nsunny\n\n[[ ## completed ## ]]"});
  dspy::Predict<PickArgs> pick;
  pick.set_lm(lm);
  pick.adapter = dspy::ChatAdapter{};
  const auto messages = pick.format({.question = "Weather?"});
  ASSERT_EQ(messages.size(), 2U);
  EXPECT_EQ(messages[0].content.text(),
            "Your input fields are:\n1. `question` (str):\nYour output fields are:\n1. `args` (dict[str, Any]): \n"
            "2. `extra` (Any):\nAll interactions will be structured in the following way, with the appropriate "
            "values filled in.\n\n[[ ## question ## ]]\n{question}\n\n[[ ## args ## ]]\n{args}        # note: the "
            "value you produce must adhere to the JSON schema: {\"type\": \"object\", \"additionalProperties\": "
            "true}\n\n[[ ## extra ## ]]\n{extra}        # note: the value you produce must adhere to the JSON "
            "schema: {}\n\n[[ ## completed ## ]]\nIn adhering to this structure, your objective is: \n        Pick "
            "a tool.");
  EXPECT_EQ(messages[1].content.text(),
            "[[ ## question ## ]]\nWeather?\n\nRespond with the corresponding output fields, starting with the field "
            "`[[ ## args ## ]]` (must be formatted as a valid Python dict[str, Any]), then `[[ ## extra ## ]]` (must "
            "be formatted as a valid Python Any), and then ending with the marker for `[[ ## completed ## ]]`.");

  const auto r = pick({.question = "Weather?"});
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->args, (json::object{{"city", "Paris"}, {"days", 2}}));
  EXPECT_EQ(r->extra, json::value("sunny"));
}

}  // namespace types_any_test
