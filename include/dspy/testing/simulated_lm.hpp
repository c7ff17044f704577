// dspy::testing::SimulatedLM: a deterministic stand-in for a model, for offline harness runs and
// tests. It reads a ChatAdapter prompt back into fields, solves the shipped tasks (arithmetic word
// problems; questions answered by a passage) and answers wrongly on a hash-chosen share of items.
#pragma once

#include <algorithm>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/json.hpp>

#include "../clients/base_lm.hpp"
#include "../detail/random.hpp"
#include "../primitives/message.hpp"

namespace dspy::testing {

/// A ChatAdapter prompt read back: what a simulated model gets to see.
struct ChatPrompt {
  std::string instructions{};
  std::vector<std::string> input_fields{};   ///< names, in the signature's order
  std::vector<std::string> output_fields{};  ///< names, in the order the reply must give them
  std::vector<std::pair<std::string, std::string>> inputs{};  ///< the final user message's fields
  std::size_t demos = 0;  ///< few-shot turns (assistant messages) before the final user message
  /// Demos of the same task: their user turn carries the final message's input fields.
  std::size_t same_kind_demos = 0;
  /// Of those, the fully worked ones: their reply supplies every output field (e.g. the
  /// reasoning a bootstrapped ChainOfThought demo has and a labeled example lacks).
  std::size_t worked_demos = 0;

  [[nodiscard]] const std::string* input(std::string_view name) const {
    for (const auto& [n, v] : inputs)
      if (n == name) return &v;
    return nullptr;
  }
  [[nodiscard]] bool has_output(std::string_view name) const {
    return std::find(output_fields.begin(), output_fields.end(), name) != output_fields.end();
  }
};

/// FNV-1a, then splitmix64's finalizer: a well-spread hash of a text, the same on every platform.
inline std::uint64_t item_hash(std::string_view text, std::uint64_t seed = 0) { return detail::text_hash(text, seed); }

/// item_hash as a number in [0, 1).
inline double unit_hash(std::string_view text, std::uint64_t seed = 0) {
  return static_cast<double>(item_hash(text, seed) >> 11) / 9007199254740992.0;
}

namespace detail::sim {

inline std::string_view trim(std::string_view s) {
  const auto b = s.find_first_not_of(" \t\r\n");
  if (b == std::string_view::npos) return {};
  return s.substr(b, s.find_last_not_of(" \t\r\n") - b + 1);
}

// `[[ ## name ## ]]` blocks of a message, in order, with their text.
inline std::vector<std::pair<std::string, std::string>> blocks(std::string_view text) {
  std::vector<std::pair<std::string, std::string>> out;
  constexpr std::string_view open = "[[ ## ", close = " ## ]]";
  for (std::size_t at = text.find(open); at != std::string_view::npos;) {
    const std::size_t name_end = text.find(close, at + open.size());
    if (name_end == std::string_view::npos) break;
    const std::size_t value_start = name_end + close.size();
    const std::size_t next = text.find(open, value_start);
    std::string_view value = text.substr(value_start, next == std::string_view::npos ? next : next - value_start);
    if (const auto respond = value.find("\n\nRespond with the corresponding output fields"); respond != value.npos)
      value = value.substr(0, respond);
    out.emplace_back(std::string(text.substr(at + open.size(), name_end - at - open.size())), std::string(trim(value)));
    at = next;
  }
  return out;
}

// Field names listed under a heading of the system message ("1. `name` (type): ...").
inline std::vector<std::string> listed_fields(std::string_view system, std::string_view heading, std::string_view until) {
  std::vector<std::string> out;
  const std::size_t start = system.find(heading);
  if (start == std::string_view::npos) return out;
  const std::size_t end = std::min(system.find(until, start), system.size());
  for (std::size_t at = system.find("`", start); at < end; at = system.find("`", at)) {
    const std::size_t close = system.find('`', at + 1);
    if (close == std::string_view::npos || close > end) break;
    out.emplace_back(system.substr(at + 1, close - at - 1));
    const std::size_t line_end = system.find('\n', close);
    if (line_end == std::string_view::npos) break;
    at = line_end;
  }
  return out;
}

struct Token {
  std::string text;
  bool word = false;  // letters or digits; otherwise punctuation, which ends a run
};

inline std::vector<Token> tokens(std::string_view s) {
  std::vector<Token> out;
  const auto alnum = [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); };
  for (std::size_t i = 0; i < s.size();) {
    if (alnum(s[i])) {
      std::size_t j = i;
      while (j < s.size() && (alnum(s[j]) || (s[j] == '\'' && j + 1 < s.size() && alnum(s[j + 1])))) ++j;
      out.push_back({std::string(s.substr(i, j - i)), true});
      i = j;
    } else {
      if (s[i] != ' ' && s[i] != '\n' && s[i] != '\t') out.push_back({std::string(1, s[i]), false});
      ++i;
    }
  }
  return out;
}

inline std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c + 32 : c);
  return s;
}

inline bool is_number(const std::string& s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

}  // namespace detail::sim

/// Reads a ChatAdapter conversation (system message, demo turns, final user message) back into
/// its fields.
inline ChatPrompt read_chat_prompt(const std::vector<Message>& messages) {
  ChatPrompt p;
  if (messages.empty()) return p;
  const std::string_view system = messages.front().role == "system" ? std::string_view(messages.front().content.text()) : "";
  p.input_fields = detail::sim::listed_fields(system, "Your input fields are:", "Your output fields are:");
  p.output_fields = detail::sim::listed_fields(system, "Your output fields are:", "All interactions will be structured");
  constexpr std::string_view objective = "your objective is: ";
  if (const auto at = system.find(objective); at != std::string_view::npos)
    p.instructions = std::string(detail::sim::trim(system.substr(at + objective.size())));
  p.demos = static_cast<std::size_t>(
      std::count_if(messages.begin(), messages.end() - 1, [](const Message& m) { return m.role == "assistant"; }));
  if (messages.back().role == "user") p.inputs = detail::sim::blocks(messages.back().content.text());
  // A demo's user turn shows each input field once (the final one also names the outputs).
  for (std::size_t i = 1; i + 2 < messages.size(); ++i) {
    if (messages[i].role != "user" || messages[i + 1].role != "assistant") continue;
    std::vector<std::string> shown;
    for (auto& [name, value] : detail::sim::blocks(messages[i].content.text())) shown.push_back(std::move(name));
    if (p.input_fields.empty() || shown != p.input_fields) continue;
    ++p.same_kind_demos;
    const auto reply = detail::sim::blocks(messages[i + 1].content.text());
    const bool worked = std::all_of(p.output_fields.begin(), p.output_fields.end(), [&](const std::string& field) {
      return std::any_of(reply.begin(), reply.end(),
                         [&](const auto& b) { return b.first == field && !b.second.starts_with("Not supplied"); });
    });
    if (worked) ++p.worked_demos;
  }
  return p;
}

/// A worked answer: the value and the reasoning that leads to it.
struct Solution {
  std::string answer;
  std::string reasoning;
};

/// Solves the arithmetic word problems of examples/data/arithmetic.jsonl: the first number is
/// the start, and each later number is added, taken away, multiplied or divided as the nearest
/// cue word before it says ("buys 7", "gives away 3", "holds 6", "equally among 4"). `slip`
/// makes the last step come out wrong, as a careless model's would.
inline std::optional<Solution> solve_arithmetic(std::string_view question, std::uint64_t slip = 0) {
  using namespace detail::sim;
  static constexpr std::pair<std::string_view, char> cues[] = {
      {"buys", '+'},  {"finds", '+'},  {"gets", '+'},   {"receives", '+'}, {"more", '+'},   {"earns", '+'},
      {"gives", '-'}, {"away", '-'},   {"eats", '-'},   {"loses", '-'},    {"sells", '-'},  {"spends", '-'},
      {"holds", '*'}, {"fills", '*'},  {"per", '*'},    {"each", '*'},     {"among", '/'},  {"equally", '/'},
  };
  const auto toks = tokens(question);
  std::optional<long long> acc;
  std::size_t since = 0;  // tokens after the previous number
  Solution s;
  for (std::size_t i = 0; i < toks.size(); ++i) {
    if (!toks[i].word || !is_number(toks[i].text)) continue;
    const long long n = std::stoll(toks[i].text);
    if (!acc) {
      acc = n;
      s.reasoning = "Start with " + toks[i].text + ".";
      since = i + 1;
      continue;
    }
    char op = 0;
    std::string cue;
    for (std::size_t k = i; k-- > since && !op;)
      for (const auto& [word, o] : cues)
        if (lower(toks[k].text) == word) op = o, cue = toks[k].text;
    if (!op || (op == '/' && n == 0)) return std::nullopt;
    const long long before = *acc;
    acc = op == '+' ? before + n : op == '-' ? before - n : op == '*' ? before * n : before / n;
    s.reasoning += " " + cue + " " + toks[i].text + ": " + std::to_string(before) + " " + op + " " + toks[i].text +
                   " = " + std::to_string(*acc) + ".";
    since = i + 1;
  }
  if (!acc) return std::nullopt;
  if (slip) {
    *acc += static_cast<long long>(slip % 9) + 1;
    s.reasoning += " So the answer is " + std::to_string(*acc) + ".";
  }
  s.answer = std::to_string(*acc);
  return s;
}

/// Answers a question from passages (the shipped factoid set's questions): picks the sentence
/// sharing the most content words with the question, then the span the question asks for (a
/// year, a number, a name, or the first run of words the question does not contain). `slip`
/// answers from the runner-up sentence instead, as a careless reader would.
inline std::optional<Solution> solve_from_passages(const std::vector<std::string>& passages, std::string_view question,
                                                   std::uint64_t slip = 0) {
  using namespace detail::sim;
  static constexpr std::string_view stop[] = {"what", "which", "who", "when", "where", "how", "is", "the", "of", "in",
                                              "a", "an", "was", "were", "did", "does", "do", "about", "many", "much",
                                              "year", "live", "long"};
  const auto q = tokens(question);
  std::vector<std::string> qwords;
  for (const auto& t : q)
    if (t.word) qwords.push_back(lower(t.text));
  const auto in_question = [&](const std::string& w) { return std::find(qwords.begin(), qwords.end(), lower(w)) != qwords.end(); };
  std::vector<std::string> sentences;
  for (const auto& passage : passages)
    for (std::size_t at = 0; at < passage.size();) {
      std::size_t end = passage.find(". ", at);
      end = end == std::string::npos ? passage.size() : end + 1;
      if (auto s = trim(std::string_view(passage).substr(at, end - at)); !s.empty()) sentences.emplace_back(s);
      at = end;
    }
  if (sentences.empty()) return std::nullopt;
  std::vector<std::pair<std::size_t, std::size_t>> ranked;  // (score, index)
  for (std::size_t i = 0; i < sentences.size(); ++i) {
    std::size_t score = 0;
    for (const auto& t : tokens(sentences[i]))
      if (t.word && in_question(t.text) &&
          std::find(std::begin(stop), std::end(stop), lower(t.text)) == std::end(stop))
        ++score;
    ranked.emplace_back(score, i);
  }
  std::stable_sort(ranked.begin(), ranked.end(), [](auto& a, auto& b) { return a.first > b.first; });
  const std::string& sentence = sentences[ranked[slip && ranked.size() > 1 ? 1 : 0].second];
  const std::string qlow = lower(std::string(question));
  const bool year = qlow.starts_with("in what year") || qlow.starts_with("when");
  const bool number = qlow.find("how many") != std::string::npos || qlow.starts_with("how long");
  const bool who = qlow.starts_with("who");
  const auto toks = tokens(sentence);
  std::string answer;
  for (std::size_t i = 0; i < toks.size() && answer.empty(); ++i) {
    const auto& t = toks[i];
    if (!t.word || in_question(t.text)) continue;
    if (year || number) {
      if (is_number(t.text) && (!year || t.text.size() == 4)) answer = t.text;
      continue;
    }
    const auto capital = [](const Token& x) { return x.word && x.text[0] >= 'A' && x.text[0] <= 'Z'; };
    if (who && !capital(t)) continue;
    std::size_t j = i;
    while (j < toks.size() && toks[j].word && !in_question(toks[j].text) && (!who || capital(toks[j]))) {
      if (j > i) answer += ' ';
      answer += toks[j++].text;
    }
  }
  if (answer.empty()) return std::nullopt;
  return Solution{answer, "The passage says: \"" + sentence + "\" So the answer is " + answer + "."};
}

/// A rule of a shipped task that a good instruction names: `phrase` is what an instruction must
/// contain (lower case) to count as naming it, `sentence` what a proposing model writes for it,
/// and `evidence` the texts whose presence in a proposal prompt lets a model notice the rule
/// (worked reasoning, a passage, feedback naming the expected answer, ...).
struct TaskRule {
  std::string_view phrase;
  std::string_view sentence;
  std::vector<std::string_view> evidence;
};

/// The rules of the arithmetic word problems and of the factoid questions.
inline constexpr std::string_view arithmetic_task = "arithmetic", factoid_task = "factoid";
inline const std::vector<TaskRule>& task_rules(std::string_view task) {
  static const std::vector<TaskRule> arithmetic = {
      {"step by step", "Work through the problem step by step, one number at a time.", {"Start with", "step"}},
      {"cue word",
       "Each number after the first is added, taken away, multiplied or divided as the cue word before it says: buys "
       "or gets adds, gives away or sells takes away, holds or each multiplies, shared equally among divides.",
       {" = ", "operation", "multipl", "divid"}},
      {"whole number", "Give the answer as a whole number only.", {"expected", "integer", "(int)"}},
  };
  static const std::vector<TaskRule> factoid = {
      {"most words", "Find the sentence of the passage that shares the most words with the question.",
       {"passage says", "sentence"}},
      {"exact words", "Answer with the exact words of that sentence, not a paraphrase.", {"passage", "context"}},
      {"year, number or name", "Give only the year, number or name the question asks for.", {"expected", "year", "who"}},
  };
  return task == factoid_task ? factoid : arithmetic;
}

/// How many of the task's rules an instruction names.
inline std::size_t rules_named(std::string_view instructions, std::string_view task) {
  const std::string low = detail::sim::lower(std::string(instructions));
  return static_cast<std::size_t>(std::count_if(task_rules(task).begin(), task_rules(task).end(),
                                                [&](const TaskRule& r) { return low.find(r.phrase) != std::string::npos; }));
}

/// The task a prompt is about: questions with a passage or context are factoid, the rest arithmetic.
inline std::string_view prompt_task(const ChatPrompt& p) {
  return p.input("passage") || p.input("context") || p.input("passages") ? factoid_task : arithmetic_task;
}

/// Chance that the simulated model answers a prompt wrongly: 30%, or 15% when it is asked to
/// reason first (ChainOfThought); a third of that (10%, 5%) once the prompt shows a demo of the
/// same task, and a sixth (5%, 2.5%) once one of them is fully worked (every output field,
/// reasoning included); and 0.6 times that for each rule of the task the instructions name. So a
/// few-shot prompt is clearly better, bootstrapped reasoning better still, a good instruction
/// helps on top, and optimizers have something real to find. Since an item is wrong when its
/// hash falls below the rate, the items a better prompt fixes are always the same.
inline double default_error_rate(const ChatPrompt& p) {
  const double zero_shot = p.has_output("reasoning") ? 0.15 : 0.30;
  const double demos = p.worked_demos > 0 ? zero_shot / 6 : p.same_kind_demos > 0 ? zero_shot / 3 : zero_shot;
  double rate = demos;
  for (std::size_t i = rules_named(p.instructions, prompt_task(p)); i > 0; --i) rate *= 0.6;
  return rate;
}

struct SimulatedLMOptions {
  /// The share of items answered wrongly for a prompt. An item is wrong when a hash of its
  /// question falls below the rate, so a lower rate gets a subset of the same items wrong.
  std::function<double(const ChatPrompt&)> error_rate = default_error_rate;
  std::uint64_t seed = 0;
  std::string model = "simulated/lm";
};

namespace detail::sim {

// What a prompting model may write when asked for an instruction, observations or advice: the
// rules of the task it notices. A rule is noticed with chance 0.85 when the prompt already names
// it (e.g. a scored earlier attempt does), 0.6 when the prompt shows evidence of it (worked
// reasoning, passages, feedback), 0.15 otherwise; `draw` (the sample index and rollout id) and
// the seed choose among samples.
inline std::vector<std::string_view> noticed_rules(std::string_view prompt, std::string_view task, std::uint64_t draw,
                                                   std::uint64_t seed) {
  std::vector<std::string_view> out;
  const std::string low = lower(std::string(prompt));
  for (const auto& rule : testing::task_rules(task)) {
    const bool named = low.find(rule.phrase) != std::string::npos;
    const bool evident = std::any_of(rule.evidence.begin(), rule.evidence.end(),
                                     [&](std::string_view e) { return low.find(lower(std::string(e))) != std::string::npos; });
    const double chance = named ? 0.85 : evident ? 0.6 : 0.15;
    if (testing::unit_hash(std::string(prompt).append(rule.phrase), seed ^ (draw * 0x9e3779b97f4a7c15ULL)) < chance)
      out.push_back(rule.sentence);
  }
  return out;
}

inline std::string join_sentences(std::string text, const std::vector<std::string_view>& sentences) {
  for (const auto sentence : sentences) {
    if (!text.empty()) text += ' ';
    text += sentence;
  }
  return text;
}

}  // namespace detail::sim

/// The ChatAdapter reply the simulated model gives to a conversation. Inputs it reads:
/// `question` with `passage` or `context` (answered from the text), `question` alone (solved as
/// arithmetic); a signature whose only output is `query` gets the question back as the query.
/// Asked as a prompting model (outputs such as `proposed_instruction`, `new_instruction`,
/// `observations`, `summary`, `module_advice`), it writes the current instruction (the
/// `basic_instruction` or `current_instruction_doc` input) followed by the task rules it notices
/// in the prompt (see TaskRule): grounded prompts give better instructions. GEPA's raw reflection
/// prompt gets the same in a ``` block. `draw` tells samples apart (the completion index and
/// rollout id).
inline std::string simulate_reply(const std::vector<Message>& messages, const SimulatedLMOptions& options = {},
                                  std::uint64_t draw = 0) {
  const ChatPrompt p = read_chat_prompt(messages);
  std::string shown;  // everything but the system message: what a prompting model reads
  for (std::size_t i = messages.empty() || messages.front().role != "system" ? 0 : 1; i < messages.size(); ++i)
    shown += messages[i].content.text();
  const std::string shown_low = detail::sim::lower(shown);
  const std::string_view shown_task =
      shown_low.find("passage") != std::string::npos || shown_low.find("context") != std::string::npos ? factoid_task
                                                                                                       : arithmetic_task;
  const auto noticed = [&] { return detail::sim::noticed_rules(shown, shown_task, draw, options.seed); };
  // gepa's reflection prompt, raw text: the instruction in a ``` block, the new one asked for in
  // another; rules the instruction already has are not repeated.
  constexpr std::string_view reflection_open = "perform a task for me:\n```\n";
  if (const auto at = shown.find(reflection_open);
      at != std::string::npos && shown.find("Provide the new instructions within ``` blocks.") != std::string::npos) {
    const std::size_t start = at + reflection_open.size();
    std::string instruction = shown.substr(start, shown.find("\n```", start) - start);
    for (const auto sentence : noticed())
      if (instruction.find(sentence) == std::string::npos) instruction = detail::sim::join_sentences(instruction, {sentence});
    return "```\n" + instruction + "\n```";
  }
  std::string current;
  for (const char* name : {"basic_instruction", "current_instruction_doc", "current_instruction"})
    if (const std::string* text = p.input(name); text && current.empty()) current = *text;
  const std::string task_kind = shown_task == factoid_task ? "questions answered from a passage"
                                                           : "arithmetic word problems whose answer is a whole number";
  const std::string* question = p.input("question");
  std::vector<std::string> passages;
  for (const char* name : {"passage", "context", "passages"})
    if (const std::string* text = p.input(name)) {
      boost::system::error_code ec;
      const boost::json::value v = boost::json::parse(*text, ec);
      if (!ec && v.is_array()) {  // a list[str] input is rendered as a JSON array
        for (const auto& e : v.get_array())
          if (e.is_string()) passages.emplace_back(e.get_string());
      } else {
        passages.push_back(*text);
      }
    }
  const std::string q = question ? *question : std::string();
  const std::uint64_t wrong =
      question && unit_hash(q, options.seed) < options.error_rate(p) ? item_hash(q, ~options.seed) | 1 : 0;
  std::optional<Solution> solution;
  if (question && !passages.empty()) solution = solve_from_passages(passages, q, wrong);
  else if (question) solution = solve_arithmetic(q, wrong);
  std::string reply;
  for (const auto& field : p.output_fields) {
    std::string value;
    if (field == "proposed_instruction" || field == "new_instruction" || field == "instruction")
      value = detail::sim::join_sentences(current.empty() ? "Answer the question." : current, noticed());
    else if (field == "proposed_prefix_for_output_field") value = "Answer:";
    else if (field == "observations" || field == "summary" || field == "discussion")
      value = detail::sim::join_sentences("The examples are " + task_kind + ".", noticed());
    else if (field == "program_description" || field == "module_description")
      value = "The program answers " + task_kind + " with a language model.";
    else if (field == "module_advice") {
      boost::json::object advice;
      boost::system::error_code ec;
      const boost::json::value names = p.input("module_names") ? boost::json::parse(*p.input("module_names"), ec)
                                                                : boost::json::value();
      if (!ec && names.is_array())
        for (const auto& name : names.get_array())
          if (name.is_string()) advice[name.get_string()] = detail::sim::join_sentences("", noticed());
      value = boost::json::serialize(advice);
    } else if (field == "reasoning") value = solution ? solution->reasoning : "I cannot work this out.";
    else if (field == "query") value = q;
    else value = solution ? solution->answer : "unknown";
    reply += "[[ ## " + field + " ## ]]\n" + value + "\n\n";
  }
  return reply + "[[ ## completed ## ]]";
}

/// A rough token count (four characters a token), so that usage figures move with the text.
inline std::int64_t estimate_tokens(std::size_t chars) { return static_cast<std::int64_t>((chars + 3) / 4); }

/// An in-process LM that answers as simulate_reply does, with estimated token usage.
class SimulatedLM : public BaseLM {
 public:
  explicit SimulatedLM(SimulatedLMOptions options = {}) : options_(std::move(options)) {}

  [[nodiscard]] std::string model() const override { return options_.model; }

  /// The simulated model's reply, without BaseLM's front (no history, usage or callbacks): for a
  /// test's own LM built on this one.
  [[nodiscard]] LMResponse reply(const LMRequest& request) const {
    LMResponse r;
    r.model = options_.model;
    // Samples differ by index and rollout id, as a model's do at a temperature above zero.
    const auto rollout = static_cast<std::uint64_t>(request.config.rollout_id.value_or(0));
    for (int i = 0; i < request.config.n.value_or(1); ++i) {
      r.completions.push_back(simulate_reply(request.messages, options_, rollout * 1000003 + static_cast<std::uint64_t>(i)));
      r.usage.completion_tokens += estimate_tokens(r.completions.back().size());
    }
    std::size_t chars = 0;
    for (const auto& m : request.messages) chars += m.content.text().size();
    r.usage.prompt_tokens = estimate_tokens(chars);
    r.usage.total_tokens = r.usage.prompt_tokens + r.usage.completion_tokens;
    return r;
  }

 protected:
  asio::awaitable<Result<LMResponse>> aforward(LMRequest request) override { co_return reply(request); }
  Result<LMResponse> forward(const LMRequest& request) override { return reply(request); }

 private:
  SimulatedLMOptions options_;
};

}  // namespace dspy::testing
