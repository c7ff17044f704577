// Field types: which C++ types a Signature may use, their DSPy type names and JSON schemas, how
// values are written into prompts, and how LM text is read back into them.
#pragma once

#include <charconv>
#include <cmath>
#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include <boost/describe/enumerators.hpp>
#include <boost/json.hpp>
#include <boost/mp11/algorithm.hpp>

#include "../detail/text/pytext.hpp"
#include "../detail/reflect.hpp"
#include "../detail/text/tolerant.hpp"
#include "../primitives/literal.hpp"
#include "../primitives/prediction.hpp"

namespace dspy {

namespace detail {

template <class T>
concept String = std::is_same_v<T, std::string>;
template <class T>
concept Integer = std::is_integral_v<T> && !std::is_same_v<T, bool> && !std::is_same_v<T, char> &&
                  !std::is_same_v<T, wchar_t> && !std::is_same_v<T, char8_t> && !std::is_same_v<T, char16_t> &&
                  !std::is_same_v<T, char32_t>;
template <class T>
concept Float = std::is_floating_point_v<T>;
template <class T>
concept Bool = std::is_same_v<T, bool>;
template <class T>
concept Enum = std::is_enum_v<T> && boost::describe::has_describe_enumerators<T>::value;
template <class T>
concept LiteralType = is_literal_v<T>;
// boost::json::object is DSPy's dict[str, Any]; boost::json::value is Any.
template <class T>
concept JsonObject = std::is_same_v<T, boost::json::object>;
template <class T>
concept JsonAny = std::is_same_v<T, boost::json::value>;
}  // namespace detail

/// A DSPy type (dspy.Type, e.g. dspy::Image, dspy::Reasoning): a struct that says how it is
/// written into prompts. It has `static constexpr std::string_view type_name` (the name the field
/// list shows) and `format()`, which returns either content parts (a boost::json::array of OpenAI
/// content parts: the value becomes parts of the user message, as DSPy's marker mechanism does) or
/// a text. Optional members: `type_description` (DSPy's `description()`, a line in the field
/// list), `static std::optional<std::string> parse(std::string_view, T&)` (the type may then be an
/// output), `static std::optional<std::string> from_json(const boost::json::value&, T&)` (saved
/// state, JSON replies), `to_json()` (its saved form, when not its text) and
/// `static boost::json::object json_schema()`.
template <class T>
concept CustomType = std::is_class_v<T> && requires(const T& v) {
  { T::type_name } -> std::convertible_to<std::string_view>;
  v.format();
};

namespace detail {

// A DSPy type whose values become content parts (images, audio, files, documents).
template <class T>
concept PartsType = CustomType<T> && requires(const T& v) {
  { v.format() } -> std::same_as<boost::json::array>;
};
template <class T>
concept ParsableType = CustomType<T> && requires(std::string_view s, T& out) {
  { T::parse(s, out) } -> std::same_as<std::optional<std::string>>;
};
template <class T>
concept JsonReadableType = CustomType<T> && requires(const boost::json::value& v, T& out) {
  { T::from_json(v, out) } -> std::same_as<std::optional<std::string>>;
};
template <class T>
concept DescribedType = CustomType<T> && requires { std::string_view{T::type_description}; };

// DSPy's markers around a value's content parts inside a prompt's text; the adapter cuts user
// messages at them into parts (dspy.adapters.types.base_type).
inline constexpr std::string_view kCustomTypeStart = "<<CUSTOM-TYPE-START-IDENTIFIER>>";
inline constexpr std::string_view kCustomTypeEnd = "<<CUSTOM-TYPE-END-IDENTIFIER>>";

template <class T>
concept Struct = std::is_class_v<T> && std::is_aggregate_v<T> && !std::is_array_v<T> && !Vector<T> &&
                 !StringMap<T> && !Optional<T> && !String<T> && !LiteralType<T> && !CustomType<T>;

template <class T>
consteval bool is_supported_type();

template <class T, std::size_t... I>
consteval bool all_fields_supported(std::index_sequence<I...>) {
  return (is_supported_type<field_type<I, T>>() && ...);
}

template <class T>
consteval bool is_supported_type() {
  if constexpr (String<T> || Integer<T> || Float<T> || Bool<T> || Enum<T> || LiteralType<T> || JsonObject<T> ||
                JsonAny<T> || CustomType<T>)
    return true;
  else if constexpr (Vector<T> || Optional<T>) return is_supported_type<typename T::value_type>();
  else if constexpr (StringMap<T>) return is_supported_type<typename T::mapped_type>();
  else if constexpr (Struct<T>) return all_fields_supported<T>(std::make_index_sequence<field_count<T>>{});
  else return false;
}

template <class T>
struct unwrap_optional {
  using type = T;
};
template <class T>
struct unwrap_optional<std::optional<T>> {
  using type = T;
};

}  // namespace detail

/// A type a Signature field may have: std::string, integers, floating point, bool, a described
/// enum class, dspy::Literal, boost::json::object (`dict[str, Any]`), boost::json::value (`Any`),
/// std::vector / std::map<std::string, T> / std::optional of these, or an aggregate struct whose
/// fields are all of these.
template <class T>
concept FieldType = detail::is_supported_type<T>();

// ---- DSPy type names ----------------------------------------------------------------------------

namespace detail {

// Python's repr of a string inside Literal[...] (dspy.adapters.utils._quoted_string_for_literal_type_annotation).
inline std::string quoted_literal_choice(std::string_view s) {
  const bool has_single = s.find('\'') != std::string_view::npos;
  const bool has_double = s.find('"') != std::string_view::npos;
  if (has_single && !has_double) return "\"" + std::string(s) + "\"";
  std::string out = "'";
  for (const char c : s) {
    if (c == '\'') out += "\\'";
    else out += c;
  }
  return out + "'";
}

template <class T>
std::string make_type_name() {
  if constexpr (String<T>) return "str";
  else if constexpr (Bool<T>) return "bool";
  else if constexpr (Integer<T>) return "int";
  else if constexpr (Float<T>) return "float";
  else if constexpr (JsonObject<T>) return "dict[str, Any]";
  else if constexpr (JsonAny<T>) return "Any";
  else if constexpr (LiteralType<T>) {
    std::string out = "Literal[";
    for (std::size_t i = 0; i < T::choices.size(); ++i) {
      if (i) out += ", ";
      out += quoted_literal_choice(T::choices[i]);
    }
    return out + "]";
  } else if constexpr (Vector<T>) return "list[" + make_type_name<typename T::value_type>() + "]";
  else if constexpr (StringMap<T>) return "dict[str, " + make_type_name<typename T::mapped_type>() + "]";
  else if constexpr (Optional<T>) return "Union[" + make_type_name<typename T::value_type>() + ", NoneType]";
  else if constexpr (requires { T::omittable; typename T::value_type; })  // `T | None` as DSPy prints it
    return "UnionType[" + make_type_name<typename T::value_type>() + ", NoneType]";
  else if constexpr (CustomType<T>) return std::string(std::string_view{T::type_name});
  else return std::string(type_name_of<T>);
}

// DSPy's "Type description of <Name>: <description>" lines for every DSPy type in T (inside
// lists, maps and optionals too) that describes itself.
template <class T>
void append_type_descriptions(std::string& out) {
  if constexpr (Vector<T> || Optional<T>) append_type_descriptions<typename T::value_type>(out);
  else if constexpr (StringMap<T>) append_type_descriptions<typename T::mapped_type>(out);
  else if constexpr (DescribedType<T>) {
    if constexpr (!std::string_view{T::type_description}.empty()) {
      out += "\n    Type description of ";
      out += std::string_view{T::type_name};
      out += ": ";
      out += std::string_view{T::type_description};
    }
  }
}

// Whether T holds a DSPy type whose values become content parts.
template <class T>
constexpr bool holds_parts() {
  if constexpr (Vector<T> || Optional<T>) return holds_parts<typename T::value_type>();
  else if constexpr (StringMap<T>) return holds_parts<typename T::mapped_type>();
  else return PartsType<T>;
}

// A DSPy type's value as its text in a prompt: the marked JSON of its parts, or its text
// (DSPy's Type.serialize_model).
template <CustomType T>
std::string custom_type_text(const T& v) {
  if constexpr (PartsType<T>) {
    std::string out(kCustomTypeStart);
    dump_py_json(out, v.format());
    out += kCustomTypeEnd;
    return out;
  } else {
    return std::string(v.format());
  }
}

}  // namespace detail

/// DSPy's name for a type: `str`, `list[int]`, `dict[str, Person]`, `Union[int, NoneType]`, ...
template <FieldType T>
const std::string& dspy_type_name() {
  static const std::string name = detail::make_type_name<T>();
  return name;
}

// ---- JSON schema (pydantic 2 style) ------------------------------------------------------------

namespace detail {

/// Python's str.title() then '_' -> ' ': pydantic's default property title.
inline std::string title_case(std::string_view name) {
  std::string out;
  out.reserve(name.size());
  bool prev_cased = false;
  for (const char c : name) {
    const bool upper = c >= 'A' && c <= 'Z', lower = c >= 'a' && c <= 'z';
    if (upper || lower) {
      out += prev_cased ? ascii_lower(c) : static_cast<char>(lower ? c - 'a' + 'A' : c);
      prev_cased = true;
    } else {
      out += c == '_' ? ' ' : c;
      prev_cased = false;
    }
  }
  return out;
}

template <Enum E, class F>
void for_each_enumerator(F&& f) {
  boost::mp11::mp_for_each<boost::describe::describe_enumerators<E>>([&](auto d) { f(d.value, d.name); });
}


}  // namespace detail

/// An enumerator's name, which is its value in prompts (e.g. "high").
template <detail::Enum E>
std::string_view enum_name(E v) {
  std::string_view name;
  detail::for_each_enumerator<E>([&](E value, const char* n) {
    if (value == v && name.empty()) name = n;
  });
  return name;
}

namespace detail {

template <class T>
boost::json::object schema_node(boost::json::object& defs);

template <Struct T>
boost::json::object struct_schema(boost::json::object& defs) {
  boost::json::object properties;
  boost::json::array required;
  [&]<std::size_t... I>(std::index_sequence<I...>) {
    (
        [&] {
          using F = field_type<I, T>;
          using Inner = typename unwrap_optional<F>::type;
          boost::json::object prop = schema_node<F>(defs);
          // pydantic gives no title to a property that is a reference to a model or enum.
          if constexpr (!Struct<Inner> && !Enum<Inner>) prop["title"] = title_case(field_names<T>[I]);
          if constexpr (Optional<F>) prop["default"] = nullptr;
          else required.emplace_back(field_names<T>[I]);
          properties[field_names<T>[I]] = std::move(prop);
        }(),
        ...);
  }(std::make_index_sequence<field_count<T>>{});
  boost::json::object out;
  out["type"] = "object";
  out["properties"] = std::move(properties);
  if (!required.empty()) out["required"] = std::move(required);
  out["title"] = type_name_of<T>;
  return out;
}

template <class T>
boost::json::object schema_node(boost::json::object& defs) {
  boost::json::object out;
  if constexpr (String<T>) out["type"] = "string";
  else if constexpr (Bool<T>) out["type"] = "boolean";
  else if constexpr (Integer<T>) out["type"] = "integer";
  else if constexpr (Float<T>) out["type"] = "number";
  else if constexpr (JsonObject<T>) {  // pydantic: dict[str, Any] accepts any key and value
    out["type"] = "object";
    out["additionalProperties"] = true;
  } else if constexpr (JsonAny<T>) {  // pydantic: Any is the empty schema
  } else if constexpr (CustomType<T>) {
    if constexpr (requires { T::json_schema(); }) out = T::json_schema();
    else out["type"] = "string";
  } else if constexpr (LiteralType<T>) {
    out["type"] = "string";
    if (T::choices.size() == 1) {
      out["const"] = T::choices[0];
    } else {
      boost::json::array choices;
      for (auto c : T::choices) choices.emplace_back(c);
      out["enum"] = std::move(choices);
    }
  } else if constexpr (Enum<T>) {
    const std::string_view name = type_name_of<T>;
    if (!defs.contains(name)) {
      boost::json::array values;
      for_each_enumerator<T>([&](T, const char* n) { values.emplace_back(n); });
      defs[name] = boost::json::object{{"type", "string"}, {"enum", std::move(values)}, {"title", name}};
    }
    out["$ref"] = "#/$defs/" + std::string(name);
  } else if constexpr (Vector<T>) {
    out["type"] = "array";
    out["items"] = schema_node<typename T::value_type>(defs);
  } else if constexpr (StringMap<T>) {
    out["type"] = "object";
    out["additionalProperties"] = schema_node<typename T::mapped_type>(defs);
  } else if constexpr (Optional<T>) {
    out["anyOf"] = boost::json::array{schema_node<typename T::value_type>(defs), boost::json::object{{"type", "null"}}};
  } else if constexpr (Struct<T>) {  // other types are reported by validate_signature, not here again
    const std::string_view name = type_name_of<T>;
    if (!defs.contains(name)) {
      defs[name] = nullptr;  // reserve first: a type that refers to itself must not recurse
      defs[name] = struct_schema<T>(defs);
    }
    out["$ref"] = "#/$defs/" + std::string(name);
  }
  return out;
}

}  // namespace detail

/// The JSON schema pydantic 2 writes for a type (TypeAdapter(T).json_schema()).
template <FieldType T>
boost::json::object json_schema() {
  boost::json::object defs;
  boost::json::object root;
  if constexpr (detail::Struct<T>) root = detail::struct_schema<T>(defs);
  else root = detail::schema_node<T>(defs);
  if (!defs.empty()) root["$defs"] = std::move(defs);
  return root;
}

/// The schema as DSPy prints it in prompts: keys sorted with "type" first.
template <FieldType T>
const std::string& json_schema_text() {
  static const std::string text = detail::py_json(json_schema<T>(), /*sort_keys=*/true);
  return text;
}

// ---- writing values -----------------------------------------------------------------------------

namespace detail {

template <class T>
void write_json(std::string& out, const T& v) {
  if constexpr (String<T>) append_json_string(out, v);
  else if constexpr (Bool<T>) out += v ? "true" : "false";
  else if constexpr (Integer<T>) append_int(out, v);
  else if constexpr (Float<T>) append_py_float(out, static_cast<double>(v), true);
  else if constexpr (LiteralType<T>) append_json_string(out, v.value());
  else if constexpr (Enum<T>) append_json_string(out, enum_name(v));
  else if constexpr (JsonObject<T> || JsonAny<T>) dump_py_json(out, v);
  else if constexpr (CustomType<T>) append_json_string(out, custom_type_text(v));
  else if constexpr (Optional<T>) {
    if (v) write_json(out, *v);
    else out += "null";
  } else if constexpr (Vector<T>) {
    out += '[';
    for (std::size_t i = 0; i < v.size(); ++i) {
      if (i) out += ", ";
      write_json(out, v[i]);
    }
    out += ']';
  } else if constexpr (StringMap<T>) {
    out += '{';
    bool first = true;
    for (const auto& [k, e] : v) {
      if (!first) out += ", ";
      first = false;
      append_json_string(out, k);
      out += ": ";
      write_json(out, e);
    }
    out += '}';
  } else {
    out += '{';
    std::size_t i = 0;
    for_each_field(v, [&](const auto& f) {
      if (i) out += ", ";
      append_json_string(out, field_names<T>[i++]);
      out += ": ";
      write_json(out, f);
    });
    out += '}';
  }
}

}  // namespace detail

/// A value as DSPy writes it into a prompt: strings raw, `True`/`False`, numbers as Python prints
/// them, enums and literals by value, `None`, and containers and structs as JSON.
template <FieldType T>
void render_value(std::string& out, const T& v) {
  using namespace detail;
  if constexpr (JsonAny<T>) {  // by the kind of value held, as DSPy's format_field_value does
    switch (v.kind()) {
      case boost::json::kind::string: out += v.get_string(); break;
      case boost::json::kind::bool_: out += v.get_bool() ? "True" : "False"; break;
      case boost::json::kind::null: out += "None"; break;
      case boost::json::kind::double_: append_py_float(out, v.get_double()); break;
      default: dump_py_json(out, v);
    }
  } else if constexpr (String<T>) out += v;
  else if constexpr (Bool<T>) out += v ? "True" : "False";
  else if constexpr (Integer<T>) append_int(out, v);
  else if constexpr (Float<T>) append_py_float(out, static_cast<double>(v));
  else if constexpr (LiteralType<T>) out += v.value();
  else if constexpr (Enum<T>) out += enum_name(v);
  else if constexpr (CustomType<T>) out += custom_type_text(v);
  else if constexpr (Optional<T>) {
    if (v) render_value(out, *v);
    else out += "None";
  } else write_json(out, v);
}

/// A value as a JSON value (Boost.JSON), e.g. for demos in saved state or JSON prompts.
template <FieldType T>
boost::json::value to_json(const T& v) {
  using namespace detail;
  if constexpr (String<T>) return boost::json::string(v);
  else if constexpr (Bool<T>) return v;
  else if constexpr (Integer<T>) return v;
  else if constexpr (Float<T>) return static_cast<double>(v);
  else if constexpr (JsonObject<T> || JsonAny<T>) return v;
  else if constexpr (LiteralType<T>) return boost::json::string(v.value());
  else if constexpr (Enum<T>) return boost::json::string(enum_name(v));
  else if constexpr (CustomType<T>) {  // DSPy's model_dump: the type's own, else its text in a prompt
    if constexpr (requires { boost::json::value(v.to_json()); }) return boost::json::value(v.to_json());
    else return boost::json::string(custom_type_text(v));
  }
  else if constexpr (Optional<T>) return v ? to_json(*v) : boost::json::value(nullptr);
  else if constexpr (Vector<T>) {
    boost::json::array a;
    a.reserve(v.size());
    for (const auto& e : v) a.push_back(to_json(e));
    return a;
  } else if constexpr (StringMap<T>) {
    boost::json::object o;
    for (const auto& [k, e] : v) o[k] = to_json(e);
    return o;
  } else {
    boost::json::object o;
    std::size_t i = 0;
    for_each_field(v, [&](const auto& f) { o[field_names<T>[i++]] = to_json(f); });
    return o;
  }
}

// ---- reading values -----------------------------------------------------------------------------

/// Where parse notes go while reading one field.
struct ParseContext {
  std::vector<ParseNote>* notes = nullptr;
  std::string_view field;
  void note(std::string what) const {
    if (notes) notes->push_back({std::string(field), std::move(what)});
  }
};

namespace detail {

inline std::string pydantic_error(std::string_view type, std::string_view what, std::string_view kind,
                                  std::string_view input) {
  std::string msg = "1 validation error for ";
  msg += type;
  msg += "\n  ";
  msg += what;
  msg += " [type=";
  msg += kind;
  msg += ", input_value=";
  msg += py_repr(input);
  msg += ", input_type=str]\n    For further information visit https://errors.pydantic.dev/2.13/v/";
  msg += kind;
  return msg;
}

/// Strips what LMs wrap short values in: a code fence, quotes or backticks, bold markers, and a
/// final period. Returns the original text when there is nothing to strip.
inline std::string_view unwrap_scalar(std::string_view s) {
  s = strip_code_fence(s);
  while (s.size() >= 2 && ((s.front() == '"' && s.back() == '"') || (s.front() == '\'' && s.back() == '\'') ||
                           (s.front() == '`' && s.back() == '`') || (s.front() == '*' && s.back() == '*')))
    s = trim(s.substr(1, s.size() - 2));
  if (!s.empty() && s.back() == '.' && s.find_first_of("0123456789") == std::string_view::npos) s.remove_suffix(1);
  return s;
}

/// A leading decimal number with optional thousands separators ("1,000.5"); the digits with the
/// commas removed, and how much text it used.
struct NumberToken {
  std::string text;
  std::size_t used = 0;
  bool had_commas = false;
};

constexpr bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }

inline std::optional<NumberToken> leading_number(std::string_view s) {
  NumberToken t;
  std::size_t i = 0;
  if (i < s.size() && (s[i] == '-' || s[i] == '+')) t.text += s[i++];
  const std::size_t digits_start = i;
  std::size_t group = 0;
  bool in_groups = false;
  while (i < s.size()) {
    const char c = s[i];
    if (is_digit(c)) {
      t.text += c;
      ++group;
      ++i;
    } else if (c == ',' && group >= 1 && group <= 3 && (!in_groups || group == 3) && i + 3 < s.size() &&
               is_digit(s[i + 1]) && is_digit(s[i + 2]) && is_digit(s[i + 3]) &&
               (i + 4 >= s.size() || !is_digit(s[i + 4]))) {
      in_groups = true;
      t.had_commas = true;
      group = 0;
      ++i;
    } else {
      break;
    }
  }
  if (i == digits_start) return std::nullopt;
  if (i < s.size() && s[i] == '.' && i + 1 < s.size() && is_digit(s[i + 1])) {
    t.text += s[i++];
    while (i < s.size() && is_digit(s[i])) t.text += s[i++];
  }
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    std::size_t j = i + 1;
    if (j < s.size() && (s[j] == '-' || s[j] == '+')) ++j;
    if (j < s.size() && is_digit(s[j])) {
      t.text.append(s.substr(i, j - i));
      i = j;
      while (i < s.size() && is_digit(s[i])) t.text += s[i++];
    }
  }
  t.used = i;
  return t;
}

template <class N>
bool parse_whole_number(std::string_view s, N& out) {
  if (s.empty()) return false;
  if (s.front() == '+') s.remove_prefix(1);
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc{} && end == s.data() + s.size();
}

// Is `d` a whole number? (An integer's text past the range of every integer type reads as one.)
inline bool is_whole(double d) { return std::isfinite(d) && std::trunc(d) == d; }

template <Integer T>
bool integer_from_double(double d, T& out) {
  if (!is_whole(d)) return false;
  // T's range is [-2^digits, 2^digits) for signed T and [0, 2^digits) for unsigned T; both ends
  // are exact doubles, unlike (double)max, which rounds up to 2^digits for 64-bit T. Past 53
  // digits, a double of exactly -2^digits may be a smaller number rounded up: not taken.
  constexpr int digits = std::numeric_limits<T>::digits;
  const double end = std::ldexp(1.0, digits);
  if (d >= end || d < (std::is_signed_v<T> ? -end : 0.0)) return false;
  if (digits > std::numeric_limits<double>::digits && d == -end) return false;
  out = static_cast<T>(d);
  return true;
}

// Why a whole number does not fit T, naming the value and T's range.
template <Integer T>
std::string out_of_range(std::string_view value) {
  return "the integer " + std::string(value) + " is out of range for this field (" +
         std::to_string(std::numeric_limits<T>::lowest()) + " to " + std::to_string(std::numeric_limits<T>::max()) + ")";
}

// Reads a number the way DSPy does (plain or integral float text), then, beyond DSPy, through
// wrappers, thousands separators and trailing prose.
template <class T>
bool read_number(std::string_view text, T& out, const ParseContext& ctx) {
  const auto exact = [&](std::string_view s) {
    if (parse_whole_number(s, out)) return true;
    if constexpr (Integer<T>) {
      // "4.0" and "1e3" read as Python's int(float(text)) does; an integer literal only exactly
      // (as a double, one past INT64_MIN would round to it).
      double d = 0;
      return s.find_first_of(".eE") != std::string_view::npos && parse_whole_number(s, d) && integer_from_double(d, out);
    }
    return false;
  };
  if (exact(text)) return true;
  const std::string_view inner = unwrap_scalar(text);
  if (inner != text && exact(inner)) {
    ctx.note("unwrapped the value");
    return true;
  }
  auto tok = leading_number(inner);
  if (!tok) return false;
  const std::string_view rest = inner.substr(tok->used);
  // Prose may follow the number ("42 apples"), but not more of a word ("42abc").
  const bool ends_word = rest.empty() || is_space(rest.front()) ||
                        (std::string_view(",;.%)").find(rest.front()) != std::string_view::npos &&
                         (rest.size() == 1 || !is_digit(rest[1])));
  if (!ends_word) return false;
  if (!exact(tok->text)) return false;
  if (tok->had_commas) ctx.note("removed thousands separators");
  if (!trim(rest).empty()) ctx.note("ignored text after the number");
  return true;
}

inline std::optional<bool> bool_word(std::string_view s) {
  for (auto w : {"true", "yes", "on", "1", "t", "y"})
    if (iequals(s, w)) return true;
  for (auto w : {"false", "no", "off", "0", "f", "n"})
    if (iequals(s, w)) return false;
  return std::nullopt;
}

template <class E>
std::optional<E> enum_from(std::string_view s, bool ignore_case) {
  std::optional<E> found;
  for_each_enumerator<E>([&](E v, const char* name) {
    if (!found && (ignore_case ? iequals(s, name) : s == name)) found = v;
  });
  return found;
}

}  // namespace detail

/// Reads LM text into a value. Returns an error message (pydantic's wording for scalars) or nullopt.
template <FieldType T>
std::optional<std::string> parse_text(std::string_view text, T& out, const ParseContext& ctx = {});

/// Reads a JSON value into a value, leniently (numbers in strings, extra keys ignored). `path` is
/// where the value sits, for messages ("person.age").
template <FieldType T>
std::optional<std::string> from_json(const boost::json::value& v, T& out, const ParseContext& ctx = {},
                                     const std::string& path = {});

namespace detail {

inline std::string json_kind_name(const boost::json::value& v) {
  switch (v.kind()) {
    case boost::json::kind::null: return "null";
    case boost::json::kind::bool_: return "a boolean";
    case boost::json::kind::int64:
    case boost::json::kind::uint64:
    case boost::json::kind::double_: return "a number";
    case boost::json::kind::string: return "a string";
    case boost::json::kind::array: return "an array";
    case boost::json::kind::object: return "an object";
  }
  return "a value";
}

inline std::string at(const std::string& path) { return path.empty() ? std::string() : "`" + path + "`: "; }

inline std::string expected(const std::string& path, std::string_view what, const boost::json::value& got) {
  return at(path) + "expected " + std::string(what) + ", got " + json_kind_name(got) + " " +
         boost::json::serialize(got);
}

}  // namespace detail

template <FieldType T>
std::optional<std::string> parse_text(std::string_view text, T& out, const ParseContext& ctx) {
  using namespace detail;
  if constexpr (String<T>) {
    out.assign(text);
    return std::nullopt;
  } else if constexpr (Integer<T>) {
    if (read_number(text, out, ctx)) return std::nullopt;
    // A whole number that T cannot hold is an error of its own, never a wrapped value.
    if (double d = 0; read_number(text, d, ParseContext{}) && is_whole(d)) return out_of_range<T>(trim(text));
    return pydantic_error("int", "Input should be a valid integer, unable to parse string as an integer",
                          "int_parsing", text);
  } else if constexpr (Float<T>) {
    if (read_number(text, out, ctx)) return std::nullopt;
    return pydantic_error("float", "Input should be a valid number, unable to parse string as a number",
                          "float_parsing", text);
  } else if constexpr (Bool<T>) {
    if (auto b = bool_word(trim(text))) {
      out = *b;
      return std::nullopt;
    }
    // "Yes, because ..." / "**True**": the first word decides.
    std::string_view inner = unwrap_scalar(text);
    const std::size_t end = inner.find_first_of(" \t\n,.;:!");
    if (auto b = bool_word(inner.substr(0, end))) {
      out = *b;
      ctx.note("read the boolean from the start of the text");
      return std::nullopt;
    }
    return pydantic_error("bool", "Input should be a valid boolean, unable to interpret input", "bool_parsing", text);
  } else if constexpr (LiteralType<T>) {
    if (auto l = T::from(text)) {
      out = *l;
      return std::nullopt;
    }
    // DSPy: strip, unwrap Literal[...] / str[...], then one pair of quotes.
    std::string_view v = trim(text);
    if ((v.starts_with("Literal[") || v.starts_with("str[")) && v.ends_with("]"))
      v = v.substr(v.find('[') + 1, v.size() - v.find('[') - 2);
    if (v.size() > 1 && v.front() == v.back() && (v.front() == '"' || v.front() == '\'')) v = v.substr(1, v.size() - 2);
    if (auto l = T::from(v)) {
      out = *l;
      return std::nullopt;
    }
    const std::string_view loose = unwrap_scalar(v);
    for (std::size_t i = 0; i < T::choices.size(); ++i) {
      if (iequals(loose, T::choices[i])) {
        out = *T::from(T::choices[i]);
        ctx.note("matched a choice ignoring case or wrapping");
        return std::nullopt;
      }
    }
    std::string msg = py_repr(text) + " is not one of (";
    for (std::size_t i = 0; i < T::choices.size(); ++i) {
      if (i) msg += ", ";
      msg += py_repr(T::choices[i]);
    }
    return msg + (T::choices.size() == 1 ? ",)" : ")");
  } else if constexpr (Enum<T>) {
    if (auto e = enum_from<T>(text, false)) {
      out = *e;
      return std::nullopt;
    }
    std::string_view loose = unwrap_scalar(text);
    const std::string_view prefix = type_name_of<T>;
    if (loose.size() > prefix.size() + 1 && loose.substr(0, prefix.size()) == prefix && loose[prefix.size()] == '.')
      loose.remove_prefix(prefix.size() + 1);
    if (auto e = enum_from<T>(loose, true)) {
      out = *e;
      ctx.note("matched an enum value ignoring case or wrapping");
      return std::nullopt;
    }
    return std::string(text) + " is not a valid name or value for the enum " + std::string(type_name_of<T>);
  } else if constexpr (Optional<T>) {
    using V = typename T::value_type;
    if constexpr (!String<V>) {
      const std::string_view t = trim(text);
      if (t.empty() || t == "None" || t == "null") {
        out.reset();
        return std::nullopt;
      }
    }
    V inner{};
    if (auto err = parse_text(text, inner, ctx)) return err;
    out = std::move(inner);
    return std::nullopt;
  } else if constexpr (CustomType<T>) {
    if constexpr (ParsableType<T>) return T::parse(text, out);
    else return std::string(std::string_view{T::type_name}) + " is not read from LM text";
  } else if constexpr (JsonAny<T>) {
    // As DSPy's parse_value for Any: JSON (or a Python literal) when the text is one, else the text.
    std::string how;
    if (auto json = parse_json_tolerant(text, &how)) {
      if (!how.empty()) ctx.note(how);
      out = std::move(*json);
    } else {
      out = boost::json::string(text);
    }
    return std::nullopt;
  } else {
    std::string how;
    auto json = parse_json_tolerant(text, &how);
    if (!json) return "the value is not valid JSON (or a Python literal) for " + dspy_type_name<T>() + ": " + std::string(text);
    if (!how.empty()) ctx.note(how);
    return from_json(*json, out, ctx);
  }
}

template <FieldType T>
std::optional<std::string> from_json(const boost::json::value& v, T& out, const ParseContext& ctx,
                                     const std::string& path) {
  using namespace detail;
  namespace json = boost::json;
  if constexpr (String<T>) {
    if (v.is_string()) {
      out.assign(v.get_string().data(), v.get_string().size());
      return std::nullopt;
    }
    if (v.is_number() || v.is_bool()) {  // str(value), as DSPy's parse_value does for str fields
      if (v.is_bool()) out = v.get_bool() ? "True" : "False";
      else if (v.is_double()) out.clear(), append_py_float(out, v.get_double());
      else out = json::serialize(v);
      return std::nullopt;
    }
    return expected(path, "a string", v);
  } else if constexpr (Integer<T> || Float<T>) {
    if (v.is_string()) {
      std::string_view s = v.get_string();
      if (auto err = parse_text(s, out, ctx)) return at(path) + *err;
      return std::nullopt;
    }
    if (v.is_int64() && parse_whole_number(std::to_string(v.get_int64()), out)) return std::nullopt;
    if (v.is_uint64() && parse_whole_number(std::to_string(v.get_uint64()), out)) return std::nullopt;
    if constexpr (Integer<T>) {
      if (v.is_int64() || v.is_uint64() || (v.is_double() && is_whole(v.get_double()) && !integer_from_double(v.get_double(), out)))
        return at(path) + out_of_range<T>(boost::json::serialize(v));
    }
    if (v.is_double()) {
      if constexpr (Float<T>) {
        out = static_cast<T>(v.get_double());
        return std::nullopt;
      } else if (integer_from_double(v.get_double(), out)) {
        return std::nullopt;
      }
    }
    if constexpr (Float<T>) {
      if (v.is_int64() || v.is_uint64()) {
        out = static_cast<T>(v.to_number<double>());
        return std::nullopt;
      }
    }
    return expected(path, Integer<T> ? "an integer" : "a number", v);
  } else if constexpr (Bool<T>) {
    if (v.is_bool()) {
      out = v.get_bool();
      return std::nullopt;
    }
    if (v.is_string()) {
      if (auto err = parse_text(std::string_view(v.get_string()), out, ctx)) return at(path) + *err;
      return std::nullopt;
    }
    // 0 and 1 only; a uint64 past INT64_MAX must not reach to_number<int64_t>, which throws.
    if ((v.is_int64() && (v.get_int64() == 0 || v.get_int64() == 1)) || (v.is_uint64() && v.get_uint64() <= 1)) {
      out = v.is_int64() ? v.get_int64() == 1 : v.get_uint64() == 1;
      return std::nullopt;
    }
    return expected(path, "a boolean", v);
  } else if constexpr (CustomType<T>) {
    std::optional<std::string> err;
    if constexpr (JsonReadableType<T>) err = T::from_json(v, out);
    else if constexpr (ParsableType<T>) err = v.is_string() ? T::parse(v.get_string(), out) : expected(path, "a string", v);
    else err = std::string(std::string_view{T::type_name}) + " is not read from JSON";
    if (err) return at(path) + *err;
    return std::nullopt;
  } else if constexpr (JsonAny<T>) {
    out = v;
    return std::nullopt;
  } else if constexpr (JsonObject<T>) {
    if (!v.is_object()) return expected(path, "an object", v);
    out = v.get_object();
    return std::nullopt;
  } else if constexpr (LiteralType<T> || Enum<T>) {
    if (!v.is_string()) return expected(path, "one of the choices of " + dspy_type_name<T>(), v);
    if (auto err = parse_text(std::string_view(v.get_string()), out, ctx)) return at(path) + *err;
    return std::nullopt;
  } else if constexpr (Optional<T>) {
    if (v.is_null()) {
      out.reset();
      return std::nullopt;
    }
    typename T::value_type inner{};
    if (auto err = from_json(v, inner, ctx, path)) return err;
    out = std::move(inner);
    return std::nullopt;
  } else if constexpr (Vector<T>) {
    if (!v.is_array()) return expected(path, "an array", v);
    const auto& a = v.get_array();
    T result;
    result.resize(a.size());
    for (std::size_t i = 0; i < a.size(); ++i)
      if (auto err = from_json(a[i], result[i], ctx, path + "[" + std::to_string(i) + "]")) return err;
    out = std::move(result);
    return std::nullopt;
  } else if constexpr (StringMap<T>) {
    if (!v.is_object()) return expected(path, "an object", v);
    T result;
    for (const auto& kv : v.get_object()) {
      std::string key(kv.key());
      if (auto err = from_json(kv.value(), result[key], ctx, path + "['" + key + "']")) return err;
    }
    out = std::move(result);
    return std::nullopt;
  } else {
    if (!v.is_object()) return expected(path, "an object (" + std::string(type_name_of<T>) + ")", v);
    const auto& o = v.get_object();
    T result{};
    std::optional<std::string> error;
    std::size_t i = 0;
    for_each_field(result, [&](auto& f) {
      const std::string_view name = field_names<T>[i++];
      if (error) return;
      const std::string sub = path.empty() ? std::string(name) : path + "." + std::string(name);
      if (const auto* fv = o.if_contains(name)) {
        error = from_json(*fv, f, ctx, sub);
      } else if constexpr (!Optional<std::remove_cvref_t<decltype(f)>>) {
        error = "`" + sub + "`: missing field";
      }
    });
    if (error) return error;
    out = std::move(result);
    return std::nullopt;
  }
}

}  // namespace dspy
