// Field types: Python-identical rendering, DSPy type names, and the tolerant parser.
#include <gtest/gtest.h>

#include "golden_signatures.hpp"

namespace types_test {

using namespace golden;

using dspy::detail::py_float;

TEST(PyText, FloatsAsPythonReprWritesThem) {
  EXPECT_EQ(py_float(450.5), "450.5");
  EXPECT_EQ(py_float(3.0), "3.0");
  EXPECT_EQ(py_float(0.1), "0.1");
  EXPECT_EQ(py_float(-2.5), "-2.5");
  EXPECT_EQ(py_float(0.0001), "0.0001");
  EXPECT_EQ(py_float(0.00001), "1e-05");
  EXPECT_EQ(py_float(1e15), "1000000000000000.0");
  EXPECT_EQ(py_float(1e16), "1e+16");
  EXPECT_EQ(py_float(1.5e16), "1.5e+16");
  EXPECT_EQ(py_float(123456789.125), "123456789.125");
  EXPECT_EQ(py_float(1.0 / 3), "0.3333333333333333");
  EXPECT_EQ(py_float(std::numeric_limits<double>::infinity()), "inf");
}

TEST(PyText, StringsAsJsonDumpsWritesThem) {
  std::string s;
  dspy::detail::append_json_string(s, "a\"b\\c\nd\x01 é");
  EXPECT_EQ(s, "\"a\\\"b\\\\c\\nd\\u0001 é\"");
  EXPECT_EQ(dspy::detail::py_repr("five"), "'five'");
  EXPECT_EQ(dspy::detail::py_repr("it's"), "\"it's\"");
  EXPECT_EQ(dspy::detail::py_repr("a'b\"c"), "'a\\'b\"c'");
}

TEST(PyText, JsonIndentAsPython) {
  const boost::json::value v = {{"a", 1}, {"b", boost::json::array{}}, {"c", {1, 2}}};
  EXPECT_EQ(dspy::detail::py_json(v), "{\"a\": 1, \"b\": [], \"c\": [1, 2]}");
  EXPECT_EQ(dspy::detail::py_json(v, false, 2), "{\n  \"a\": 1,\n  \"b\": [],\n  \"c\": [\n    1,\n    2\n  ]\n}");
}

TEST(Types, RenderValueAsDSPyFormatsFields) {
  std::string s;
  dspy::render_value(s, true);
  EXPECT_EQ(s, "True");
  s.clear();
  dspy::render_value(s, std::optional<int>{});
  EXPECT_EQ(s, "None");
  s.clear();
  dspy::render_value(s, Person{"Ann", 31});
  EXPECT_EQ(s, "{\"name\": \"Ann\", \"age\": 31}");
  s.clear();
  dspy::render_value(s, std::map<std::string, std::vector<double>>{{"x", {1.0, 2.5}}});
  EXPECT_EQ(s, "{\"x\": [1.0, 2.5]}");
  s.clear();
  dspy::render_value(s, Priority::high);
  EXPECT_EQ(s, "high");
}

TEST(Types, TitleCaseAsPydantic) {
  EXPECT_EQ(dspy::detail::title_case("postal_code"), "Postal Code");
  EXPECT_EQ(dspy::detail::title_case("order_id"), "Order Id");
  EXPECT_EQ(dspy::detail::title_case("userID"), "Userid");
  EXPECT_EQ(dspy::detail::title_case("x2y"), "X2Y");
}

TEST(Types, InferPrefixAsDSPy) {
  EXPECT_EQ(dspy::infer_prefix("next_thought"), "Next Thought");
  EXPECT_EQ(dspy::infer_prefix("camelCaseText"), "Camel Case Text");
  EXPECT_EQ(dspy::infer_prefix("HTMLParser"), "HTML Parser");
  EXPECT_EQ(dspy::infer_prefix("text2number"), "Text 2 Number");
}

template <class T>
T parse_ok(std::string_view text, std::vector<dspy::ParseNote>* notes = nullptr) {
  T out{};
  const auto err = dspy::parse_text(text, out, {notes, "f"});
  EXPECT_FALSE(err.has_value()) << text << ": " << *err;
  return out;
}

template <class T>
std::string parse_err(std::string_view text) {
  T out{};
  const auto err = dspy::parse_text(text, out);
  EXPECT_TRUE(err.has_value()) << text << " should not parse";
  return err.value_or("");
}

TEST(TolerantParse, IntegersAsDSPyAndBeyond) {
  EXPECT_EQ(parse_ok<int>("42"), 42);
  EXPECT_EQ(parse_ok<int>("5.0"), 5);  // pydantic accepts integral floats
  std::vector<dspy::ParseNote> notes;
  EXPECT_EQ(parse_ok<long>("1,000,000", &notes), 1000000);
  ASSERT_EQ(notes.size(), 1u);
  EXPECT_EQ(notes[0].note, "removed thousands separators");
  EXPECT_EQ(notes[0].field, "f");
  EXPECT_EQ(parse_ok<int>("42 apples"), 42);
  EXPECT_EQ(parse_ok<int>("```\n7\n```"), 7);
  EXPECT_EQ(parse_ok<int>("\"12\""), 12);
  EXPECT_EQ(parse_ok<int>("-3."), -3);
  parse_err<int>("five");
  parse_err<int>("4.5");
  parse_err<int>("42abc");
  parse_err<int>("1,00");
  parse_err<std::int8_t>("300");
}

TEST(TolerantParse, FloatsAndBooleans) {
  EXPECT_DOUBLE_EQ(parse_ok<double>("0.75"), 0.75);
  EXPECT_DOUBLE_EQ(parse_ok<double>("1,234.5"), 1234.5);
  EXPECT_DOUBLE_EQ(parse_ok<double>("0.9 (fairly sure)"), 0.9);
  EXPECT_DOUBLE_EQ(parse_ok<double>("1e3"), 1000.0);
  EXPECT_EQ(parse_err<double>("high"),
            "1 validation error for float\n  Input should be a valid number, unable to parse string as a number "
            "[type=float_parsing, input_value='high', input_type=str]\n    For further information visit "
            "https://errors.pydantic.dev/2.13/v/float_parsing");
  EXPECT_TRUE(parse_ok<bool>("True"));
  EXPECT_FALSE(parse_ok<bool>("false"));
  EXPECT_TRUE(parse_ok<bool>("yes"));
  EXPECT_FALSE(parse_ok<bool>("No"));
  EXPECT_TRUE(parse_ok<bool>("**True**"));
  EXPECT_TRUE(parse_ok<bool>("Yes, it is a question."));
  parse_err<bool>("maybe");
}

TEST(TolerantParse, EnumsAndLiterals) {
  EXPECT_EQ(parse_ok<Sentiment>("neutral"), Sentiment::neutral);
  std::vector<dspy::ParseNote> notes;
  EXPECT_EQ(parse_ok<Sentiment>("Positive", &notes), Sentiment::positive);
  EXPECT_EQ(notes.size(), 1u);
  EXPECT_EQ(parse_ok<Sentiment>("Sentiment.negative"), Sentiment::negative);
  EXPECT_EQ(parse_err<Sentiment>("happy"), "happy is not a valid name or value for the enum Sentiment");

  using L = dspy::Literal<"yes", "no">;
  EXPECT_EQ(parse_ok<L>("yes"), "yes");
  EXPECT_EQ(parse_ok<L>("'no'"), "no");
  EXPECT_EQ(parse_ok<L>("Literal['no']"), "no");
  EXPECT_EQ(parse_ok<L>("No."), "no");
  EXPECT_EQ(parse_err<L>("perhaps"), "'perhaps' is not one of ('yes', 'no')");
  EXPECT_EQ(parse_err<dspy::Literal<"only">>("x"), "'x' is not one of ('only',)");
}

TEST(TolerantParse, JsonValuesInFencesProseAndPythonSyntax) {
  EXPECT_EQ(parse_ok<std::vector<std::string>>("[\"a\", \"b\"]"), (std::vector<std::string>{"a", "b"}));
  std::vector<dspy::ParseNote> notes;
  EXPECT_EQ(parse_ok<std::vector<int>>("```json\n[1, 2]\n```", &notes), (std::vector<int>{1, 2}));
  EXPECT_EQ(notes.at(0).note, "removed a code fence");
  const auto p = parse_ok<Person>("Here it is: {\"name\": \"Ann\", \"age\": \"31\"} -- hope that helps");
  EXPECT_EQ(p.name, "Ann");
  EXPECT_EQ(p.age, 31);
  EXPECT_EQ(parse_ok<std::vector<std::string>>("['it\\'s', \"b\", 'c',]").size(), 3u);
  const auto m = parse_ok<std::map<std::string, bool>>("{'x': True, 'y': False}");
  EXPECT_TRUE(m.at("x"));
  EXPECT_FALSE(m.at("y"));
  EXPECT_FALSE(parse_ok<std::optional<int>>("None").has_value());
  EXPECT_EQ(parse_ok<std::optional<std::string>>("None"), "None");  // DSPy keeps the text for Optional[str]
}

TEST(TolerantParse, NestedErrorsNameThePath) {
  Order o{};
  auto err = dspy::parse_text(R"({"order_id": 1, "ship_to": {"street": "s", "city": "c"}, "items": {}})", o);
  ASSERT_TRUE(err);
  EXPECT_EQ(*err, "`ship_to.postal_code`: missing field");
  err = dspy::parse_text(R"({"order_id": 1, "ship_to": {"street": "s", "city": "c", "postal_code": "p"},
                             "items": {"apple": "many"}})",
                         o);
  ASSERT_TRUE(err);
  EXPECT_NE(err->find("`items['apple']`"), std::string::npos) << *err;
  EXPECT_FALSE(dspy::parse_text(R"({"order_id": 1, "ship_to": {"street": "s", "city": "c", "postal_code": "p"},
                                    "items": {"apple": 2}, "extra": true})",
                                o));
  EXPECT_FALSE(o.bill_to.has_value());
  EXPECT_EQ(o.items.at("apple"), 2);
}

TEST(Types, JsonRoundTripThroughToAndFromJson) {
  const Ticket t{"Fix it", Priority::urgent, "closed", {"a", "b"}, Person{"Bo", 40}, 2.5, true};
  Ticket back{};
  ASSERT_FALSE(dspy::from_json(dspy::to_json(t), back));
  EXPECT_EQ(back.title, t.title);
  EXPECT_EQ(back.priority, t.priority);
  EXPECT_EQ(back.status, "closed");
  EXPECT_EQ(back.tags, t.tags);
  ASSERT_TRUE(back.assignee);
  EXPECT_EQ(back.assignee->age, 40);
  EXPECT_DOUBLE_EQ(back.estimate_hours, 2.5);
}

TEST(Literal, ChoicesAndRuntimeLookup) {
  using L = dspy::Literal<"a", "b", "c">;
  constexpr L b = "b";
  static_assert(b.index() == 1 && b.value() == "b");
  static_assert(L{}.value() == "a");
  EXPECT_EQ(L::from("c")->index(), 2u);
  EXPECT_FALSE(L::from("d"));
  using Quoted = dspy::Literal<"it's", "x">;
  EXPECT_EQ(dspy::dspy_type_name<Quoted>(), "Literal[\"it's\", 'x']");
}

TEST(Result, ValueOrTypedError) {
  dspy::Result<int> ok = 3;
  EXPECT_TRUE(ok);
  EXPECT_EQ(*ok, 3);
  dspy::Result<int> bad = dspy::Error(dspy::Errc::timeout, "slow", "raw", "f");
  EXPECT_FALSE(bad);
  EXPECT_EQ(bad.error().code(), dspy::Errc::timeout);
  EXPECT_EQ(bad.error().field(), "f");
  EXPECT_THROW((void)bad.value(), dspy::BadResultAccess);
  EXPECT_EQ(dspy::to_string(dspy::Errc::rate_limited), "rate_limited");
}

}  // namespace types_test
