// Typed errors and dspy::Result<T>: every fallible operation returns a value or an Error.
#pragma once

#include <cstdint>
#include <ostream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>

namespace dspy {

/// What went wrong. Parse errors come from adapters; the LM codes from the LM client.
enum class Errc : std::uint8_t {
  parse_error,     ///< the completion has no usable structure (e.g. no JSON object, broken XML)
  missing_field,   ///< an output field is absent from the completion
  type_mismatch,   ///< an output field is present but its value does not convert to the field's type
  config,          ///< the call cannot be made as configured (no LM, bad option)
  cancelled,       ///< the operation was cancelled
  auth,            ///< LM: 401/403
  bad_request,     ///< LM: 400
  not_found,       ///< LM: 404 (unknown model or endpoint)
  context_window,  ///< LM: the prompt exceeds the model's context window
  rate_limited,    ///< LM: 429 after retries
  server,          ///< LM: 5xx after retries
  timeout,         ///< LM: no reply in time
  network,         ///< LM: connection failed or broke
  bad_response,    ///< LM: the reply body is unusable (not JSON, no choices)
  io,              ///< a file cannot be opened, read or written
  metric,          ///< a metric threw while scoring a prediction
};

[[nodiscard]] constexpr std::string_view to_string(Errc code) noexcept {
  switch (code) {
    case Errc::parse_error: return "parse_error";
    case Errc::missing_field: return "missing_field";
    case Errc::type_mismatch: return "type_mismatch";
    case Errc::config: return "config";
    case Errc::cancelled: return "cancelled";
    case Errc::auth: return "auth";
    case Errc::bad_request: return "bad_request";
    case Errc::not_found: return "not_found";
    case Errc::context_window: return "context_window";
    case Errc::rate_limited: return "rate_limited";
    case Errc::server: return "server";
    case Errc::timeout: return "timeout";
    case Errc::network: return "network";
    case Errc::bad_response: return "bad_response";
    case Errc::io: return "io";
    case Errc::metric: return "metric";
  }
  return "unknown";
}

inline std::ostream& operator<<(std::ostream& os, Errc code) { return os << to_string(code); }

/// True for the errors an adapter raises while reading a completion (DSPy's AdapterParseError).
[[nodiscard]] constexpr bool is_parse_error(Errc code) noexcept {
  return code == Errc::parse_error || code == Errc::missing_field || code == Errc::type_mismatch;
}

/// A typed error: a code, a message saying what and where, and what the LM sent (if anything).
class Error {
 public:
  Error(Errc code, std::string message, std::string raw_response = {}, std::string field = {})
      : code_(code), message_(std::move(message)), raw_response_(std::move(raw_response)), field_(std::move(field)) {}

  [[nodiscard]] Errc code() const noexcept { return code_; }
  [[nodiscard]] const std::string& message() const noexcept { return message_; }
  /// The LM's completion (or response body) the error is about; empty when there was none.
  [[nodiscard]] const std::string& raw_response() const noexcept { return raw_response_; }
  /// The signature field the error is about; empty when it is about no single field.
  [[nodiscard]] const std::string& field() const noexcept { return field_; }
  /// The DSPy path of the module call where the error arose ("self.analyze.classify"); empty
  /// when it arose outside any module or predictor call.
  [[nodiscard]] const std::string& module() const noexcept { return module_; }
  /// Sets module() unless an inner call already did (an observed call knows its full path).
  void set_module(std::string_view path) {
    if (module_.empty()) module_ = path;
  }
  /// Where an unobserved call's error arose: the predictor (its address, only ever compared) and
  /// its path as far as known. Each module call it passes on the way out that holds the predictor
  /// names it again from its own place, so the outermost one's path stays.
  void set_origin(const void* predictor, std::string_view path) {
    origin_ = predictor;
    module_ = path;
  }
  [[nodiscard]] const void* origin() const noexcept { return origin_; }

 private:
  Errc code_;
  std::string message_;
  std::string raw_response_;
  std::string field_;
  std::string module_;
  const void* origin_ = nullptr;
};

/// Thrown only by Result::value() on an error: the Result API itself never throws.
class BadResultAccess : public std::runtime_error {
 public:
  explicit BadResultAccess(const Error& e)
      : std::runtime_error("dspy: value() called on an error result: " + std::string(to_string(e.code())) + ": " +
                           e.message()),
        error_(e) {}
  [[nodiscard]] const Error& error() const noexcept { return error_; }

 private:
  Error error_;
};

/// A value or an Error (like std::expected, which C++20 lacks).
template <class T>
class [[nodiscard]] Result {
  static_assert(!std::is_same_v<T, Error>, "dspy: Result<Error> is ambiguous; return Result<void> or Error");

 public:
  using value_type = T;

  Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}  // NOLINT: implicit by design
  Result(Error error) : v_(std::in_place_index<1>, std::move(error)) {}  // NOLINT: implicit by design

  [[nodiscard]] bool has_value() const noexcept { return v_.index() == 0; }
  explicit operator bool() const noexcept { return has_value(); }

  T& value() & { return check(), *std::get_if<0>(&v_); }
  const T& value() const& { return check(), *std::get_if<0>(&v_); }
  T&& value() && { return check(), std::move(*std::get_if<0>(&v_)); }

  /// Precondition: !has_value().
  [[nodiscard]] const Error& error() const& noexcept { return *std::get_if<1>(&v_); }
  [[nodiscard]] Error& error() & noexcept { return *std::get_if<1>(&v_); }
  [[nodiscard]] Error&& error() && noexcept { return std::move(*std::get_if<1>(&v_)); }

  /// Reaches through to the value; for a value that itself has `->` (Predicted), through that
  /// too, so that `result->answer` reads an output field.
  decltype(auto) operator->() {
    if constexpr (requires(T& t) { t.operator->(); }) return (value());
    else return &value();
  }
  decltype(auto) operator->() const {
    if constexpr (requires(const T& t) { t.operator->(); }) return (value());
    else return &value();
  }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  void check() const {
    if (!has_value()) throw BadResultAccess(error());
  }
  std::variant<T, Error> v_;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : error_(std::move(error)), ok_(false) {}  // NOLINT: implicit by design

  [[nodiscard]] bool has_value() const noexcept { return ok_; }
  explicit operator bool() const noexcept { return ok_; }
  void value() const {
    if (!ok_) throw BadResultAccess(error_);
  }
  [[nodiscard]] const Error& error() const& noexcept { return error_; }
  [[nodiscard]] Error& error() & noexcept { return error_; }

 private:
  Error error_{Errc::config, {}};
  bool ok_ = true;
};

}  // namespace dspy
