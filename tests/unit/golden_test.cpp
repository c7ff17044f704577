// Every vector DSPy 3.3.1 produced (tests/golden) must come out byte for byte the same here.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "golden_signatures.hpp"
#include "golden_vectors.hpp"

namespace golden_test {

namespace json = boost::json;
using namespace golden;

json::value load(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return json::parse(ss.str());
}

std::vector<std::string> golden_files() {
  std::vector<std::string> names;
  for (const auto& e : std::filesystem::directory_iterator(DSPY_GOLDEN_DIR))
    if (e.path().extension() == ".json") names.push_back(e.path().stem().string());
  std::sort(names.begin(), names.end());
  return names;
}

dspy::AdapterHandle adapter_of(const json::object& v) {
  const std::string_view name = v.at("adapter").as_string();
  if (name == "json") return dspy::JSONAdapter{};
  if (name == "xml") return dspy::XMLAdapter{};
  return dspy::ChatAdapter{};
}

// The name DSPy prints for an annotation where the two differ (golden/README.md).
std::string_view printed_type(std::string_view annotation) {
  if (annotation == "Reasoning") return "str";
  if (annotation == "Code['python']") return "Code_python";
  return annotation;
}

// A message's content exactly as the vector has it: a string, or parts with their key order.
std::string wire(const dspy::Content& c) { return json::serialize(c.to_json()); }

// Whether a C++ signature is the one a vector describes: instructions, names, DSPy type names, docs.
template <class Sig>
bool same_signature(const json::object& sig) {
  const dspy::SignatureMeta& meta = dspy::signature_meta<Sig>();
  if (sig.at("instructions").as_string() != meta.default_instructions) return false;
  const auto same_fields = [](const json::array& want, const std::vector<dspy::FieldMeta>& have) {
    if (want.size() != have.size()) return false;
    for (std::size_t i = 0; i < want.size(); ++i) {
      const auto& w = want[i].as_object();
      const std::string_view desc = w.at("desc").is_null() ? std::string_view() : std::string_view(w.at("desc").as_string());
      if (w.at("name").as_string() != have[i].name || printed_type(w.at("type").as_string()) != have[i].type_name ||
          desc != have[i].desc)
        return false;
    }
    return true;
  };
  return same_fields(sig.at("inputs").as_array(), meta.inputs) && same_fields(sig.at("outputs").as_array(), meta.outputs);
}

template <class Sig>
void check_format(const json::object& v) {
  std::vector<dspy::Demo<Sig>> demos;
  for (const auto& d : v.at("demos").as_array()) {
    auto demo = dspy::demo_from_json<Sig>(d.as_object());
    ASSERT_TRUE(demo) << demo.error().message();
    demos.push_back(*demo);
  }
  typename Sig::Input input{};
  ASSERT_FALSE(dspy::from_json(v.at("inputs"), input).has_value());
  const auto messages = dspy::format_messages<Sig>(adapter_of(v), dspy::signature_meta<Sig>().default_instructions,
                                                   std::span<const dspy::Demo<Sig>>(demos), input);
  const auto& want = v.at("messages").as_array();
  ASSERT_EQ(messages.size(), want.size());
  for (std::size_t i = 0; i < want.size(); ++i) {
    EXPECT_EQ(messages[i].role, want[i].at("role").as_string()) << "message " << i;
    EXPECT_EQ(wire(messages[i].content), json::serialize(want[i].at("content"))) << "message " << i;
  }

  // Predict sends exactly these messages.
  dspy::Predict<Sig> predict;
  predict.demos = demos;
  predict.adapter = adapter_of(v);
  EXPECT_EQ(predict.format(input), messages);
}

template <class Sig>
void check_parse(const json::object& v) {
  std::vector<dspy::ParseNote> notes;
  // Rich-type parse vectors give the reply message (`response`) instead of its text.
  const std::string_view completion =
      v.contains("completion") ? v.at("completion").as_string() : v.at("response").at("content").as_string();
  const auto result = dspy::parse_completion<Sig>(adapter_of(v), completion, &notes);
  if (const auto* expected = v.if_contains("expected")) {
    ASSERT_TRUE(result) << result.error().message();
    EXPECT_EQ(dspy::to_json(*result), *expected);
    EXPECT_TRUE(notes.empty()) << "a clean reply needs no repairs; first note: " << notes.front().note;
  } else {
    ASSERT_FALSE(result);
    EXPECT_TRUE(dspy::is_parse_error(result.error().code()));
    EXPECT_EQ(result.error().message(), v.at("message").as_string());
    EXPECT_EQ(result.error().raw_response(), completion);
  }
}

template <class Sig>
void check_state(const json::object& v) {
  dspy::Predict<Sig> p;
  ASSERT_TRUE(p.load_state(v.at("state")));
  ASSERT_EQ(p.demos.size(), 2u);
  EXPECT_TRUE(p.demos[0].augmented);
  EXPECT_EQ(p.dump_state(), v.at("state").as_object());
  // As a program: DSPy keys a bare Predict's state by "self".
  const json::object program{{"self", v.at("state")}};
  dspy::Predict<Sig> q;
  ASSERT_TRUE(dspy::load_state(q, program));
  EXPECT_EQ(dspy::dump_state(q), program);
}

// A trace vector: the module's requests, call by call, and its final result.
template <class Sig>
void check_trace(const json::object& v) {
  const auto& calls = v.at("calls").as_array();
  auto lm = std::make_shared<TraceLM>(v.at("lm").as_object(), trace_replies(calls));
  typename Sig::Input input{};
  ASSERT_FALSE(dspy::from_json(v.at("inputs"), input).has_value());
  dspy::Predict<Sig> predict;
  predict.adapter = adapter_of(v);
  predict.set_lm(lm);
  const auto result = predict(input);
  ASSERT_EQ(lm->requests.size(), calls.size());
  for (std::size_t c = 0; c < calls.size(); ++c) {
    const auto& want = calls[c].at("messages").as_array();
    const auto& sent = lm->requests[c].messages;
    ASSERT_EQ(sent.size(), want.size()) << "call " << c;
    // The keyword arguments DSPy passed beside the messages that are request-body fields here.
    for (const auto& kw : calls[c].at("lm_kwargs").as_object())
      if (kw.key() == "reasoning_effort") {
        EXPECT_EQ(lm->requests[c].config.extra.at(kw.key()), kw.value()) << kw.key();
      }
    if (!calls[c].at("lm_kwargs").as_object().contains("reasoning_effort")) {
      EXPECT_FALSE(lm->requests[c].config.extra.contains("reasoning_effort")) << "call " << c;
    }
    for (std::size_t i = 0; i < want.size(); ++i) {
      EXPECT_EQ(sent[i].role, want[i].at("role").as_string()) << "call " << c << " message " << i;
      EXPECT_EQ(wire(sent[i].content), json::serialize(want[i].at("content"))) << "call " << c << " message " << i;
    }
  }
  ASSERT_TRUE(result) << result.error().message();
  EXPECT_EQ(dspy::to_json(**result), v.at("expected"));
}

struct Runner {
  std::function<bool(const json::object&)> matches;
  std::function<void(const json::object&)> run;
};

template <class Sig>
Runner runner() {
  return {[](const json::object& v) { return v.contains("signature") && same_signature<Sig>(v.at("signature").as_object()); },
          [](const json::object& v) {
            const std::string_view kind = v.at("kind").as_string();
            if (kind == "format") check_format<Sig>(v);
            else if (kind == "parse") check_parse<Sig>(v);
            else if (kind == "trace") check_trace<Sig>(v);
            else FAIL() << "unknown kind " << kind;
          }};
}

const std::vector<Runner>& runners() {
  static const std::vector<Runner> all{runner<QA>(),          runner<dspy::WithReasoning<QA>>(), runner<ContextQA>(),
                                       runner<DefaultInstructions>(), runner<TextMetrics>(), runner<WordCounts>(),
                                       runner<EnumSentiment>(), runner<LiteralSentiment>(), runner<ExtractPerson>(),
                                       runner<Translate>(), runner<Caption>(), runner<ImageQA>(),
                                       runner<CompareImages>(), runner<Transcribe>(), runner<SummarizeFile>(),
                                       runner<ChatQA>(), runner<ReasonedAnswer>(), runner<WriteCode>(),
                                       runner<CiteDocuments>()};
  return all;
}

// schemas.json: each type's DSPy name and structure line, for an output field named `value`.
using SchemaCheck = std::function<std::pair<std::string, std::string>()>;
template <class T>
SchemaCheck schema_of() {
  return [] { return std::pair{dspy::dspy_type_name<T>(), "{value}" + dspy::detail::output_type_note<T>()}; };
}

const std::map<std::string, SchemaCheck>& schema_types() {
  static const std::map<std::string, SchemaCheck> types{
      {"int", schema_of<int>()},
      {"float", schema_of<double>()},
      {"bool", schema_of<bool>()},
      {"str", schema_of<std::string>()},
      {"list[int]", schema_of<std::vector<int>>()},
      {"list[float]", schema_of<std::vector<double>>()},
      {"list[bool]", schema_of<std::vector<bool>>()},
      {"list[list[str]]", schema_of<std::vector<std::vector<std::string>>>()},
      {"dict[str, str]", schema_of<std::map<std::string, std::string>>()},
      {"dict[str, list[int]]", schema_of<std::map<std::string, std::vector<int>>>()},
      {"dict[str, float]", schema_of<std::map<std::string, double>>()},
      {"Optional[int]", schema_of<std::optional<int>>()},
      {"Optional[list[str]]", schema_of<std::optional<std::vector<std::string>>>()},
      {"Literal['yes', 'no', 'maybe']", schema_of<dspy::Literal<"yes", "no", "maybe">>()},
      {"Priority", schema_of<Priority>()},
      {"Person", schema_of<Person>()},
      {"list[Person]", schema_of<std::vector<Person>>()},
      {"Optional[Person]", schema_of<std::optional<Person>>()},
      {"dict[str, Person]", schema_of<std::map<std::string, Person>>()},
      {"Ticket", schema_of<Ticket>()},
      {"Order", schema_of<Order>()},
      {"list[Order]", schema_of<std::vector<Order>>()},
  };
  return types;
}

class Golden : public ::testing::TestWithParam<std::string> {};

TEST_P(Golden, MatchesDSPy) {
  const json::value file = load(std::filesystem::path(DSPY_GOLDEN_DIR) / (GetParam() + ".json"));
  const auto& v = file.as_object();
  const std::string_view kind = v.at("kind").as_string();
  if (kind == "schemas") {
    const auto& cases = v.at("cases").as_array();
    EXPECT_EQ(cases.size(), schema_types().size());
    for (const auto& c : cases) {
      const std::string type(c.at("type").as_string());
      const auto it = schema_types().find(type);
      ASSERT_NE(it, schema_types().end()) << "no C++ type for " << type;
      const auto [name, line] = it->second();
      EXPECT_EQ(name, c.at("type_name").as_string()) << type;
      EXPECT_EQ(line, c.at("structure_line").as_string()) << type;
    }
    return;
  }
  if (kind == "state") {
    check_state<QA>(v);
    return;
  }
  // Vectors whose runners are in files of their own (golden_xml_nested_test.cpp, golden_two_step_test.cpp,
  // golden_tools_test.cpp, golden_react_v2_test.cpp).
  if (GetParam().starts_with("xml_nested_") || GetParam() == "two_step_chat" || GetParam().starts_with("tools_") ||
      GetParam().starts_with("react_v2_"))
    GTEST_SKIP() << "run by its own file";
  const auto it = std::find_if(runners().begin(), runners().end(), [&](const Runner& r) { return r.matches(v); });
  ASSERT_NE(it, runners().end()) << "no C++ signature in golden_signatures.hpp matches " << GetParam();
  it->run(v);
}

INSTANTIATE_TEST_SUITE_P(DSPy331, Golden, ::testing::ValuesIn(golden_files()),
                         [](const ::testing::TestParamInfo<std::string>& info) { return info.param; });

TEST(Golden, AllPublishedVectorsAreHere) {
  // The copies in tests/golden must not fall behind the published set.
  EXPECT_GE(golden_files().size(), 58u);
}

}  // namespace golden_test
