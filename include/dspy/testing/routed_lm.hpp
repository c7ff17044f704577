// dspy::testing::RoutedLM: an in-process LM that answers by what a request asks, not by when it
// arrives (DSPy's DummyLM idea, typed), so programs with several stages test correctly under
// batch at any concurrency. Its routes file is also what `demo_server --routes` serves over HTTP.
#pragma once

#include <atomic>
#include <chrono>
#include <concepts>
#include <cstddef>
#include <filesystem>
#include <functional>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include <boost/json/object.hpp>

#include "../adapters/signature_view.hpp"
#include "../clients/base_lm.hpp"
#include "../detail/config.hpp"
#include "../primitives/error.hpp"
#include "../primitives/message.hpp"
#include "../signatures/signature.hpp"
#include "scripted_lm.hpp"

namespace dspy::testing {

/// What a request made by the Chat, JSON or XML adapter shows of its call: the adapter, the
/// signature's field names (from the system message's field list), and each input field of its
/// last user message with the value as the prompt writes it (stripped).
struct RequestFields {
  std::string_view adapter;  ///< "ChatAdapter", "JSONAdapter", "XMLAdapter", or empty: none of them
  std::vector<std::string> input_names;
  std::vector<std::string> output_names;
  std::vector<std::pair<std::string, std::string>> inputs;

  /// The signature as DSPy writes one in a string: "question, context -> answer".
  [[nodiscard]] std::string signature() const {
    std::string s;
    for (const auto& name : input_names) (s += s.empty() ? "" : ", ") += name;
    s += " ->";
    for (std::size_t i = 0; i < output_names.size(); ++i) (s += i ? ", " : " ") += output_names[i];
    return s;
  }

  /// The value of input `name`; null when the request has no such input.
  [[nodiscard]] const std::string* find(std::string_view name) const {
    for (const auto& [key, value] : inputs)
      if (key == name) return &value;
    return nullptr;
  }
};

/// Reads the adapter and input fields of a request's messages.
DSPY_DECL RequestFields read_request(const std::vector<Message>& messages);

}  // namespace dspy::testing

namespace dspy::detail {

// A route: the reply to a request, or nullopt with why it does not match in `why`.
struct Route {
  std::string name;
  std::function<std::optional<testing::TestReply>(const LMRequest&, const testing::RequestFields&, std::string& why)>
      answer;
};

// Whether `messages` come from a predictor of the signature `sig` (its system message starts with
// the signature's field list, as every built-in adapter writes it).
DSPY_DECL bool from_signature(const SignatureView& sig, const std::vector<Message>& messages);

// Reads the request's input values into `input` (the signature's Input): nullopt, or what failed.
DSPY_DECL std::optional<std::string> read_inputs(const SignatureView& sig, const testing::RequestFields& fields,
                                                 void* input);

// `output` (the signature's Output) as the request's adapter writes a reply.
DSPY_DECL std::string format_outputs(const SignatureView& sig, std::string_view adapter, const void* output);

// A routes-file reply given field by field, as the request's adapter writes a reply: strings as
// they are, other values as JSON.
DSPY_DECL std::string format_fields(std::string_view adapter, const boost::json::object& fields);

// A route for one line of a routes file (`where` locates the line in errors).
DSPY_DECL Result<Route> route_from_json(const boost::json::value& rule, const std::string& where);

// Scripted tool calls, as routes and replies files give them: a list of `{"id"?, "name",
// "arguments"?}` with the arguments an object or JSON text (kept as given, so broken JSON can be
// scripted; none: `{}`). An absent id stays empty (the demo server makes one up). `where` locates
// the list in errors.
DSPY_DECL Result<std::vector<MessageToolCall>> scripted_tool_calls(const boost::json::value& calls,
                                                                   const std::string& where);

// A route of signature Sig: `answer(input, why)` gives the output (or the error) that answers a
// request of Sig, or nullopt with why not in `why`; the output is written as the request's
// adapter writes a reply.
template <Signature Sig, class Answer>
Route signature_route(std::string name, Answer answer) {
  return {std::move(name), [answer = std::move(answer)](const LMRequest& request, const testing::RequestFields& fields,
                                                        std::string& why) -> std::optional<testing::TestReply> {
            const SignatureView& sig = signature_view<Sig>();
            if (!from_signature(sig, request.messages)) {
              why = "not a request of this signature (its system message lists other fields)";
              return std::nullopt;
            }
            typename Sig::Input input{};
            if (auto failed = read_inputs(sig, fields, &input)) {
              why = std::move(*failed);
              return std::nullopt;
            }
            std::optional<Result<typename Sig::Output>> out = answer(input, why);
            if (!out) return std::nullopt;
            if (!*out) return testing::TestReply(out->error());
            return testing::TestReply(format_outputs(sig, fields.adapter, &out->value()));
          }};
}

}  // namespace dspy::detail

namespace dspy::testing {

/// An LM for tests that picks its reply by the request's content, trying its routes in the order
/// added: by the signature of the predictor that sent the request and its input values (typed),
/// by a predicate over the request, or by a regex over the last user message; else the default
/// reply, else an Errc::config error that shows the request's inputs and why each route declined.
/// Typed replies are written in the request's adapter format (Chat, JSON or XML), so they parse.
///
///     RoutedLM lm;
///     lm.route<QA>([](const QA::Input& in) { return QA::Output{.answer = lookup(in.question)}; })
///       .when<QA>(&QA::Input::question, "2+2?", QA::Output{.answer = "4"})
///       .when_user_message("capital of France", "[[ ## answer ## ]]\nParis\n\n[[ ## completed ## ]]")
///       .otherwise(dspy::Error(dspy::Errc::server, "unrouted"));
///
/// Calls may run on any number of threads at once; add routes before the calls (adding takes a
/// lock, so it is safe, but a call sees the routes of the moment). Route functions are called
/// concurrently. An ordinary BaseLM: its calls are in the history, usage and callbacks.
class RoutedLM : public BaseLM {
 public:
  using Reply = TestReply;

  explicit RoutedLM(std::string model = "routed/lm") : model_(std::move(model)) {}

  /// Answers the requests of Sig by `fn(const Sig::Input&)`, returning a Sig::Output, a
  /// Result<Sig::Output> (an error is the call's error) or a std::optional<Sig::Output> (nullopt:
  /// the next route is tried).
  template <Signature Sig, class F>
  RoutedLM& route(F fn) {
    using Out = typename Sig::Output;
    using R = std::invoke_result_t<const F&, const typename Sig::Input&>;
    using Answer = std::optional<Result<Out>>;
    static_assert(std::same_as<R, Out> || std::same_as<R, Result<Out>> || std::same_as<R, std::optional<Out>>,
                  "dspy::testing::RoutedLM::route<Sig>: the function must take a const Sig::Input& and return a "
                  "Sig::Output, a dspy::Result<Sig::Output> or a std::optional<Sig::Output>.");
    return add(dspy::detail::signature_route<Sig>(
        "a function of the inputs of a signature with inputs " + input_names<Sig>(),
        [fn = std::move(fn)](const typename Sig::Input& input, std::string& why) -> Answer {
          R out = fn(input);
          if constexpr (std::same_as<R, std::optional<Out>>) {
            if (!out) {
              why = "the function declined (nullopt)";
              return std::nullopt;
            }
            return Answer(std::move(*out));
          } else {
            return Answer(std::move(out));
          }
        }));
  }

  /// Replies `output` to the requests of Sig whose input satisfies `pred(const Sig::Input&)`.
  template <Signature Sig, class P>
    requires std::predicate<const P&, const typename Sig::Input&>
  RoutedLM& when(P pred, typename Sig::Output output) {
    using Out = typename Sig::Output;
    return add(dspy::detail::signature_route<Sig>(
        "a predicate over the inputs of a signature with inputs " + input_names<Sig>(),
        [pred = std::move(pred), output = std::move(output)](const typename Sig::Input& input,
                                                              std::string& why) -> std::optional<Result<Out>> {
          if (pred(input)) return Result<Out>(output);
          why = "the predicate is false";
          return std::nullopt;
        }));
  }

  /// Replies `output` to the requests of Sig whose input `field` (e.g. &QA::Input::question)
  /// equals `value`.
  template <Signature Sig, class Owner, class T, class V>
  RoutedLM& when(T Owner::*field, V value, typename Sig::Output output) {
    static_assert(std::same_as<Owner, typename Sig::Input>,
                  "dspy::testing::RoutedLM::when<Sig>(field, value, output): the field must be a member of "
                  "Sig::Input (e.g. &QA::Input::question for when<QA>); name the signature whose input it is.");
    if constexpr (std::same_as<Owner, typename Sig::Input>) {
      return when<Sig>([field, value = std::move(value)](const typename Sig::Input& in) { return in.*field == value; },
                       std::move(output));
    } else {
      return *this;
    }
  }

  /// Replies `reply` to the requests for which `pred` holds; `name` names it in errors.
  RoutedLM& when_request(std::function<bool(const LMRequest&)> pred, Reply reply, std::string name = "a predicate") {
    return add({std::move(name),
                [pred = std::move(pred), reply = std::move(reply)](const LMRequest& request, const RequestFields&,
                                                                   std::string& why) -> std::optional<Reply> {
                  if (pred(request)) return reply;
                  why = "the predicate is false";
                  return std::nullopt;
                }});
  }

  /// Replies `reply` to the requests whose last user message an ECMAScript `regex` matches
  /// (anywhere in it: std::regex_search). An invalid regex throws std::regex_error.
  DSPY_DECL RoutedLM& when_user_message(const std::string& regex, Reply reply);

  /// The reply when no route matches (by default, none: an error).
  RoutedLM& otherwise(Reply reply) {
    std::unique_lock lock(mutex_);
    otherwise_ = std::move(reply);
    return *this;
  }

  /// Adds the routes of a routes file (README, "Test LMs"), after the routes already added; a
  /// malformed line is an Errc::parse_error naming the file, line and what is wrong, and adds
  /// nothing.
  DSPY_DECL Result<void> load_routes(const std::filesystem::path& path);

  /// Waits this long before each answer (a blocking call sleeps).
  RoutedLM& delay(std::chrono::nanoseconds d) {
    delay_.store(d.count());
    return *this;
  }

  /// The reply the routes give `request`, without the LM front (no history, usage or callbacks):
  /// what the demo server serves.
  [[nodiscard]] DSPY_DECL Result<LMResponse> reply_to(const LMRequest& request) const;

  [[nodiscard]] std::size_t calls() const noexcept { return calls_.load(); }
  [[nodiscard]] std::string model() const override { return model_; }

 protected:
  DSPY_DECL Result<LMResponse> forward(const LMRequest& request) override;

  asio::awaitable<Result<LMResponse>> aforward(LMRequest request) override {
    calls_.fetch_add(1);
    return dspy::detail::answer_after(reply_to(request), std::chrono::nanoseconds(delay_.load()), "RoutedLM");
  }

 private:
  template <Signature Sig>
  static std::string input_names() {
    std::string s;
    for (const auto& f : signature_meta<Sig>().inputs) (((s += s.empty() ? "`" : ", `") += f.name) += '`');
    return s;
  }

  DSPY_DECL RoutedLM& add(dspy::detail::Route route);

  mutable std::shared_mutex mutex_;
  std::string model_;
  std::vector<dspy::detail::Route> routes_;
  std::optional<Reply> otherwise_;
  std::atomic<std::size_t> calls_{0};
  std::atomic<std::chrono::nanoseconds::rep> delay_{0};
};

}  // namespace dspy::testing

// The bodies; with the compiled part, only <dspy/src.hpp> includes them.
#if !defined(DSPY_SEPARATE_COMPILATION)
#include "routed_lm_impl.hpp"
#endif
