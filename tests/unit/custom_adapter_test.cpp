// An adapter written outside the library, as a user would: it plugs into Predict, configure,
// context, the fallback and ReAct's trajectory without any change to the library.
#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>

#include "golden_signatures.hpp"

namespace custom_adapter_test {

using namespace golden;
using dspy::testing::ScriptedLM;

// Every field on a line of its own, `name: value`, in the prompt and in the reply.
class FieldLinesAdapter : public dspy::Adapter {
 public:
  [[nodiscard]] std::string_view name() const noexcept override { return "FieldLinesAdapter"; }

  [[nodiscard]] std::string format_field_structure(const dspy::SignatureView& sig) const override {
    std::string s = "Reply with one line per output field:";
    for (const auto& f : sig.outputs) {
      s += '\n';
      format_field_with_value(s, f.name(), "...");
    }
    return s;
  }

  void format_field_with_value(std::string& out, std::string_view name, std::string_view value) const override {
    out += name;
    out += ": ";
    out += value;
  }

  [[nodiscard]] std::string format_assistant_message_content(const dspy::SignatureView& /*sig*/,
                                                             const dspy::FieldValues& outputs,
                                                             std::string_view missing_field_message) const override {
    std::string s;
    std::string value;
    for (std::size_t j = 0; j < outputs.size(); ++j) {
      if (j) s += '\n';
      value.clear();
      if (outputs.present(j)) outputs.render(j, value);
      else value = missing_field_message;
      format_field_with_value(s, outputs.name(j), value);
    }
    return s;
  }

  [[nodiscard]] std::optional<dspy::Error> parse(const dspy::SignatureView& sig, std::string_view completion,
                                                 void* outputs, std::vector<dspy::ParseNote>* notes) const override {
    std::uint64_t seen = 0;
    for (std::size_t pos = 0; pos < completion.size();) {
      std::size_t nl = completion.find('\n', pos);
      if (nl == std::string_view::npos) nl = completion.size();
      const std::string_view line = completion.substr(pos, nl - pos);
      pos = nl + 1;
      const std::size_t colon = line.find(": ");
      if (colon == std::string_view::npos) continue;
      const std::size_t j = sig.output_index(line.substr(0, colon));
      if (j >= sig.outputs.size() || (seen >> j & 1U)) continue;
      const dspy::FieldCodec& field = sig.outputs[j];
      if (auto err = field.parse_text(line.substr(colon + 2), outputs, {notes, field.name()}))
        return dspy::Error(dspy::Errc::type_mismatch, *err, std::string(completion), std::string(field.name()));
      seen |= std::uint64_t{1} << j;
    }
    for (std::size_t j = 0; j < sig.outputs.size(); ++j)
      if (!(seen >> j & 1U) && !sig.outputs[j].is_optional)
        return dspy::Error(dspy::Errc::missing_field, "no line for " + std::string(sig.outputs[j].name()),
                           std::string(completion), std::string(sig.outputs[j].name()));
    return std::nullopt;
  }
};

// The same, asking the JSONAdapter when it cannot read a reply.
class FieldLinesWithFallback : public FieldLinesAdapter {
 public:
  [[nodiscard]] dspy::AdapterHandle fallback() const override { return dspy::JSONAdapter{}; }
};

TEST(CustomAdapter, FormatsPromptsItsOwnWay) {
  dspy::Predict<QA> qa;
  qa.adapter = FieldLinesAdapter{};
  qa.demos.push_back({.input = {"Capital of Italy?"}, .output = {"Rome"}});
  const auto m = qa.format({"Capital of France?"});
  ASSERT_EQ(m.size(), 4u);
  // DSPy's field description and task description around the adapter's own structure.
  EXPECT_EQ(m[0].content.text(),
            "Your input fields are:\n1. `question` (str):\nYour output fields are:\n1. `answer` (str): often between "
            "1 and 5 words\nReply with one line per output field:\nanswer: ...\nIn adhering to this structure, your "
            "objective is: \n        Answer questions with short factoid answers.");
  EXPECT_EQ(m[1], (dspy::Message{"user", "question: Capital of Italy?"}));
  EXPECT_EQ(m[2], (dspy::Message{"assistant", "answer: Rome"}));
  EXPECT_EQ(m[3], (dspy::Message{"user", "question: Capital of France?"}));
  EXPECT_EQ(dspy::format_messages<QA>(FieldLinesAdapter{}, qa.instructions(), qa.demos, {"Capital of France?"}), m);
}

TEST(CustomAdapter, PredictsThroughConfigureAndContext) {
  auto lm = std::make_shared<ScriptedLM>(
      std::vector<std::string>{"word_count: 3\nscore: 0.5\nis_question: yes\nkeywords: [\"a\", \"b\"]",
                               "[[ ## answer ## ]]\nParis"});
  dspy::configure({.lm = lm, .adapter = FieldLinesAdapter{}});
  dspy::Predict<TextMetrics> metrics;
  const auto r = metrics({"Is this it?"});
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->word_count, 3);
  EXPECT_EQ(r->score, 0.5);
  EXPECT_TRUE(r->is_question);
  EXPECT_EQ(r->keywords, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(r.value().adapter(), "FieldLinesAdapter");
  EXPECT_EQ(lm->requests()[0].messages.back().content.text(), "text: Is this it?");
  {
    auto scope = dspy::context({.adapter = dspy::ChatAdapter{}});
    dspy::Predict<QA> qa;
    const auto chat = qa({"Capital of France?"});
    ASSERT_TRUE(chat) << chat.error().message();
    EXPECT_EQ(chat->answer, "Paris");
    EXPECT_EQ(chat.value().adapter(), "ChatAdapter");
  }
  dspy::configure({});
}

TEST(CustomAdapter, NoFallbackUnlessTheAdapterHasOne) {
  auto lm = std::make_shared<ScriptedLM>(std::vector<std::string>{"the answer is Paris", "{\"answer\": \"Paris\"}"});
  dspy::Predict<QA> qa;
  qa.set_lm(lm);
  qa.adapter = FieldLinesAdapter{};
  auto r = qa({"Capital of France?"});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), dspy::Errc::missing_field);
  EXPECT_EQ(lm->calls(), 1u);

  lm = std::make_shared<ScriptedLM>(std::vector<std::string>{"the answer is Paris", "{\"answer\": \"Paris\"}"});
  qa.set_lm(lm);
  qa.adapter = FieldLinesWithFallback{};
  r = qa({"Capital of France?"});
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->answer, "Paris");
  EXPECT_EQ(r.value().adapter(), "JSONAdapter");
  EXPECT_EQ(lm->calls(), 2u);
  ASSERT_EQ(r.value().parse_notes().size(), 1u);
  EXPECT_EQ(r.value().parse_notes()[0].note,
            "the FieldLinesAdapter could not parse the reply (missing_field); retried with the JSONAdapter");
}

using QAResult = dspy::Predict<QA>::result_type;

boost::asio::awaitable<void> ask(const dspy::Predict<QA>* qa, std::optional<QAResult>* out) {
  auto pending = qa->acall({"Capital of France?"});
  out->emplace(co_await std::move(pending));
}

TEST(CustomAdapter, WorksOnTheAsyncPathAndInReAct) {
  auto lm = std::make_shared<ScriptedLM>(std::vector<std::string>{"answer: Paris"});
  dspy::Predict<QA> qa;
  qa.set_lm(lm);
  qa.adapter = std::make_shared<const FieldLinesAdapter>();
  boost::asio::io_context io;
  std::optional<QAResult> out;
  boost::asio::co_spawn(io, ask(&qa, &out), boost::asio::detached);
  io.run();
  ASSERT_TRUE(out && *out) << (*out).error().message();
  EXPECT_EQ((*out)->answer, "Paris");

  const dspy::Trajectory t = {{"Think.", "search", {{"query", "x"}}, "found"}};
  EXPECT_EQ(dspy::format_trajectory(t, FieldLinesAdapter{}),
            "thought_0: Think.\n\ntool_name_0: search\n\ntool_args_0: {\"query\": \"x\"}\n\nobservation_0: found");
}

}  // namespace custom_adapter_test
