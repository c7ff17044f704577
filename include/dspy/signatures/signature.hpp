// Signatures: a struct with nested aggregates `Input` and `Output`, optional `instructions` and
// field `docs`, validated at compile time.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "../detail/config.hpp"
#include "field_types.hpp"

namespace dspy {

/// A field's description, shown to the LM: `{"answer", "often between 1 and 5 words"}`.
struct FieldDoc {
  std::string_view name;
  std::string_view desc;
};

template <std::size_t N>
struct Docs {
  std::array<FieldDoc, N> items;
  [[nodiscard]] constexpr std::string_view find(std::string_view name) const noexcept {
    for (const auto& d : items)
      if (d.name == name) return d.desc;
    return {};
  }
};

/// `static constexpr auto docs = dspy::docs({{"answer", "often between 1 and 5 words"}});`
template <std::size_t N>
consteval Docs<N> docs(const FieldDoc (&items)[N]) {
  Docs<N> out{};
  for (std::size_t i = 0; i < N; ++i) out.items[i] = items[i];
  return out;
}

/// The shape of a Signature; Predict checks the details with messages that say how to fix them.
template <class Sig>
concept Signature = requires {
  typename Sig::Input;
  typename Sig::Output;
};

namespace detail {

// Reports an output field of a DSPy type that is never read from a reply (Image, Audio, File,
// Document, History: inputs only, as in DSPy); its template arguments name the field and type.
template <class Owner, class FieldName, class Type>
constexpr void input_only_type_as_output() {
  static_assert(always_false<Type>,
                "dspy: this DSPy type is an input type and cannot be an output field; "
                "input_only_type_as_output<Owner, FieldName, Type> names the field and the type. Move the field "
                "to Sig::Input (an LM reply cannot hold an image, audio, a file, a document or a conversation "
                "History), or use std::string / a struct for what the LM should write.");
}

// Reports an input field of a type an LM only produces (ToolCalls); its template arguments name
// the field and type.
template <class Owner, class FieldName, class Type>
constexpr void output_only_type_as_input() {
  static_assert(always_false<Type>,
                "dspy: this DSPy type is an output type and cannot be an input field; "
                "output_only_type_as_input<Owner, FieldName, Type> names the field and the type. Move the field "
                "to Sig::Output (dspy::ToolCalls is what an LM asks for), or give past calls to the LM as a "
                "dspy::History turn or dspy::ToolCallResults.");
}

template <class T>
consteval bool writable_input() {
  if constexpr (Vector<T> || Optional<T>) return writable_input<typename T::value_type>();
  else if constexpr (StringMap<T>) return writable_input<typename T::mapped_type>();
  else if constexpr (requires { T::output_only; }) return false;
  else return true;
}

template <class S, std::size_t... I>
consteval void check_inputs_writable(std::index_sequence<I...>) {
  (
      [] {
        if constexpr (!writable_input<field_type<I, S>>())
          output_only_type_as_input<S, field_name_t<S, I>, field_type<I, S>>();
      }(),
      ...);
}

template <class T>
consteval bool readable_output() {
  if constexpr (Vector<T> || Optional<T>) return readable_output<typename T::value_type>();
  else if constexpr (StringMap<T>) return readable_output<typename T::mapped_type>();
  else if constexpr (CustomType<T>) return ParsableType<T>;
  else if constexpr (requires { T::is_history; }) return false;
  else return true;
}

template <class S, std::size_t... I>
consteval void check_outputs_readable(std::index_sequence<I...>) {
  (
      [] {
        if constexpr (!readable_output<field_type<I, S>>())
          input_only_type_as_output<S, field_name_t<S, I>, field_type<I, S>>();
      }(),
      ...);
}

template <class Sig>
concept HasInstructions = requires { std::string_view{Sig::instructions}; };
template <class Sig>
concept HasDocs = requires { Sig::docs.items; };

template <class Sig>
constexpr std::string_view doc_for(std::string_view name) {
  if constexpr (HasDocs<Sig>) return Sig::docs.find(name);
  else return {};
}

template <class S>
consteval bool has_name(std::string_view name) {
  for (auto n : field_names<S>)
    if (n == name) return true;
  return false;
}

template <class S>
consteval bool unique_names() {
  for (std::size_t i = 0; i < field_count<S>; ++i)
    for (std::size_t j = i + 1; j < field_count<S>; ++j)
      if (field_names<S>[i] == field_names<S>[j]) return false;
  return true;
}

template <class Sig>
consteval bool no_shared_names() {
  for (auto n : field_names<typename Sig::Input>)
    if (has_name<typename Sig::Output>(n)) return false;
  return true;
}

// Reports a field whose type a signature cannot hold. Its template arguments, which the compiler
// prints, name the struct that declares the field, the field and the type (for a nested struct,
// the innermost ones).
template <class Owner, class FieldName, class Type>
constexpr void unsupported_field_type() {
  static_assert(always_false<Type>,
                "dspy: unsupported field type; unsupported_field_type<Owner, FieldName, Type> names the struct, "
                "the field and the type (the innermost ones in a nested struct). Use std::string, an "
                "integer, floating point, bool, a described enum class (BOOST_DESCRIBE_ENUM), dspy::Literal<...>, "
                "or std::vector<T>, std::map<std::string, T>, std::optional<T> or an aggregate struct of these.");
}

template <class S, std::size_t... I>
consteval void check_field_types(std::index_sequence<I...>);

// Descends into containers and nested structs to report the innermost unsupported type.
template <class Owner, class FieldName, class T>
consteval void check_field_type() {
  if constexpr (FieldType<T>) return;
  else if constexpr (Vector<T> || Optional<T>) check_field_type<Owner, FieldName, typename T::value_type>();
  else if constexpr (StringMap<T>) check_field_type<Owner, FieldName, typename T::mapped_type>();
  else if constexpr (Struct<T>) check_field_types<T>(std::make_index_sequence<field_count<T>>{});
  else unsupported_field_type<Owner, FieldName, T>();
}

template <class S, std::size_t... I>
consteval void check_field_types(std::index_sequence<I...>) {
  (check_field_type<S, field_name_t<S, I>, field_type<I, S>>(), ...);
}

// Reports a dspy::docs key that is not a field name; its template arguments name the key.
template <class Sig, class Key>
constexpr void docs_key_is_not_a_field() {
  static_assert(always_false<Sig>,
                "dspy: Sig::docs describes a field that is not in Sig::Input or Sig::Output; the Key of "
                "docs_key_is_not_a_field<Sig, Key> names it. Check its spelling in dspy::docs({...}).");
}

template <class Sig, std::size_t I>
consteval void check_doc() {
  constexpr std::string_view key = Sig::docs.items[I].name;
  if constexpr (!has_name<typename Sig::Input>(key) && !has_name<typename Sig::Output>(key))
    docs_key_is_not_a_field<Sig, name_t<store_name<key.size()>(key)>>();
}

template <class Sig, std::size_t... I>
consteval void check_docs(std::index_sequence<I...>) {
  (check_doc<Sig, I>(), ...);
}

template <class T>
concept AggregateStruct = std::is_aggregate_v<T> && std::is_class_v<T>;

}  // namespace detail

/// Compile-time validation of a Signature; each failure says what to change. Returns true: the
/// failures are its own static_asserts, and a check that needs an earlier one to hold runs only
/// when it does, so that one mistake gives one error.
template <class Sig>
consteval bool validate_signature() {
  static_assert(Signature<Sig>,
                "dspy: a Signature is a struct with nested structs `Input` and `Output`: "
                "struct QA { struct Input { std::string question; }; struct Output { std::string answer; }; };");
  if constexpr (Signature<Sig>) {
    using In = typename Sig::Input;
    using Out = typename Sig::Output;
    static_assert(detail::AggregateStruct<In>,
                  "dspy: Sig::Input must be an aggregate struct (no constructors, base classes or private members).");
    static_assert(detail::AggregateStruct<Out>,
                  "dspy: Sig::Output must be an aggregate struct (no constructors, base classes or private members).");
    // The field checks reflect both structs.
    if constexpr (detail::AggregateStruct<In> && detail::AggregateStruct<Out>) {
      static_assert(field_count<Out> > 0,
                    "dspy: Sig::Output has no fields. A signature needs at least one output field, e.g. "
                    "struct Output { std::string answer; };");
      static_assert(field_count<In> + field_count<Out> <= 64, "dspy: a signature has at most 64 fields.");
      detail::check_field_types<In>(std::make_index_sequence<field_count<In>>{});
      detail::check_field_types<Out>(std::make_index_sequence<field_count<Out>>{});
      if constexpr (FieldType<Out>) detail::check_outputs_readable<Out>(std::make_index_sequence<field_count<Out>>{});
      if constexpr (FieldType<In>) detail::check_inputs_writable<In>(std::make_index_sequence<field_count<In>>{});
      static_assert(detail::unique_names<In>() && detail::unique_names<Out>(),
                    "dspy: a field name appears twice in Sig::Input or Sig::Output (ChainOfThought<Sig> adds "
                    "`reasoning`: a Sig that already has it needs another name for its own field).");
      static_assert(detail::no_shared_names<Sig>(),
                    "dspy: the same field name is in both Sig::Input and Sig::Output. Rename one of them: DSPy field "
                    "names are unique within a signature.");
      if constexpr (detail::HasDocs<Sig>) detail::check_docs<Sig>(std::make_index_sequence<Sig::docs.items.size()>{});
    }
  }
  return true;
}

namespace detail {

/// Per-field operations on a reflected struct, dispatched by field index at run time.
template <class S>
struct FieldTable {
  static constexpr std::size_t size = field_count<S>;
  using ParseFn = std::optional<std::string> (*)(std::string_view, S&, const ParseContext&);
  using JsonInFn = std::optional<std::string> (*)(const boost::json::value&, S&, const ParseContext&);
  using ToJsonFn = boost::json::value (*)(const S&);

  template <std::size_t I>
  using type = field_type<I, S>;

  template <std::size_t... I>
  static constexpr auto make(std::index_sequence<I...>) {
    struct Tables {
      std::array<ParseFn, size> parse;
      std::array<JsonInFn, size> from_json;
      std::array<ToJsonFn, size> to_json;
    };
    return Tables{
        {[](std::string_view t, S& s, const ParseContext& c) { return parse_text(t, get_field<I>(s), c); }...},
        {[](const boost::json::value& v, S& s, const ParseContext& c) {
          return dspy::from_json(v, get_field<I>(s), c, std::string(field_names<S>[I]));
        }...},
        {[](const S& s) { return dspy::to_json(get_field<I>(s)); }...},
    };
  }
  // validate_signature reports an unsupported field type; an empty table then adds no second error.
  static constexpr auto ops = make(std::make_index_sequence<FieldType<S> ? size : 0>{});

  template <std::size_t... I>
  static std::array<std::string, size> type_names(std::index_sequence<I...>) {
    return {dspy_type_name<type<I>>()...};
  }

  static constexpr std::size_t index_of(std::string_view name) noexcept {
    for (std::size_t i = 0; i < size; ++i)
      if (field_names<S>[i] == name) return i;
    return size;
  }
};

}  // namespace detail

/// Run-time facts about a Signature's fields, computed once.
struct FieldMeta {
  std::string_view name;
  std::string type_name;  ///< DSPy's name: `str`, `list[str]`, ...
  std::string_view desc;  ///< the doc, or empty
  bool is_str = false;
  std::string structure;  ///< `{name}` plus the type note, as in the prompt's structure block
  /// DSPy's `\n    Type description of Document: ...` lines for the DSPy types in the field's
  /// type, shown after its doc; usually empty.
  std::string type_description{};
  /// What the reminder says the LM must write when it is not DSPy's "must be formatted as a valid
  /// Python <type>" (a DSPy type's `format_hint`); usually empty.
  std::string_view format_hint{};
};

struct SignatureMeta {
  std::vector<FieldMeta> inputs;
  std::vector<FieldMeta> outputs;
  std::string default_instructions;  ///< Sig::instructions or DSPy's "Given the fields ..." text
};

namespace detail {

/// dspy.adapters.utils.translate_field_type for an output field.
template <class T>
std::string output_type_note() {
  std::string desc;
  // A DSPy type's format says it all, unless it has a schema for the LM (ToolCalls).
  if constexpr (String<T> || (CustomType<T> && !requires { T::json_schema(); })) return {};
  else if constexpr (Bool<T>) desc = "must be True or False";
  else if constexpr (Integer<T>) desc = "must be a single int value";
  else if constexpr (Float<T>) desc = "must be a single float value";
  else if constexpr (Enum<T>) {
    desc = "must be one of: ";
    bool first = true;
    for_each_enumerator<T>([&](T, const char* n) {
      if (!first) desc += "; ";
      first = false;
      desc += n;
    });
  } else if constexpr (LiteralType<T>) {
    desc = "must exactly match (no extra characters) one of: ";
    for (std::size_t i = 0; i < T::choices.size(); ++i) {
      if (i) desc += "; ";
      desc += T::choices[i];
    }
  } else {
    desc = "must adhere to the JSON schema: " + json_schema_text<T>();
  }
  return "        # note: the value you produce " + desc;
}

template <class T>
constexpr std::string_view format_hint_of() {
  if constexpr (requires { std::string_view{T::format_hint}; }) return T::format_hint;
  else return {};
}

// One field's metadata; its structure line is `{name}` and the type note. Not a template: each
// field of each signature calls it instead of building the strings in place.
DSPY_DECL void add_field_meta(std::vector<FieldMeta>& out, std::string_view name, std::string type_name,
                              std::string_view desc, bool is_str, std::string_view type_note,
                              std::string type_description, std::string_view format_hint);

template <class T>
std::string type_descriptions_of() {
  std::string d;
  append_type_descriptions<T>(d);
  return d;
}

template <class S, bool IsOutput, std::size_t... I>
std::vector<FieldMeta> field_metas(std::string_view (*doc)(std::string_view), std::index_sequence<I...>) {
  std::vector<FieldMeta> out;
  out.reserve(sizeof...(I));
  (add_field_meta(out, field_names<S>[I], dspy_type_name<field_type<I, S>>(), doc(field_names<S>[I]),
                  String<field_type<I, S>>, IsOutput ? output_type_note<field_type<I, S>>() : std::string(),
                  type_descriptions_of<field_type<I, S>>(), format_hint_of<field_type<I, S>>()),
   ...);
  return out;
}

inline std::string join_names(const std::vector<FieldMeta>& fields) {
  std::string out;
  for (std::size_t i = 0; i < fields.size(); ++i) {
    if (i) out += ", ";
    out += '`';
    out += fields[i].name;
    out += '`';
  }
  return out;
}

}  // namespace detail

/// dspy.signatures.signature.infer_prefix: "next_thought" -> "Next Thought", "HTMLParser" ->
/// "HTML Parser", "text2number" -> "Text 2 Number".
inline std::string infer_prefix(std::string_view name) {
  const auto upper = [](char c) { return c >= 'A' && c <= 'Z'; };
  const auto lower = [](char c) { return c >= 'a' && c <= 'z'; };
  const auto digit = [](char c) { return c >= '0' && c <= '9'; };
  const auto alpha = [&](char c) { return upper(c) || lower(c); };
  // The same four re.sub passes DSPy makes, each inserting '_' at word boundaries.
  std::string s(name), t;
  for (std::size_t i = 0; i < s.size(); ++i) {  // (.)([A-Z][a-z]+)
    if (i > 0 && upper(s[i]) && i + 1 < s.size() && lower(s[i + 1])) t += '_';
    t += s[i];
  }
  s.swap(t), t.clear();
  for (std::size_t i = 0; i < s.size(); ++i) {  // ([a-z0-9])([A-Z])
    if (i > 0 && upper(s[i]) && (lower(s[i - 1]) || digit(s[i - 1]))) t += '_';
    t += s[i];
  }
  s.swap(t), t.clear();
  for (std::size_t i = 0; i < s.size(); ++i) {  // ([a-zA-Z])(\d)
    if (i > 0 && digit(s[i]) && alpha(s[i - 1])) t += '_';
    t += s[i];
  }
  s.swap(t), t.clear();
  for (std::size_t i = 0; i < s.size(); ++i) {  // (\d)([a-zA-Z])
    if (i > 0 && alpha(s[i]) && digit(s[i - 1])) t += '_';
    t += s[i];
  }
  std::string out;
  std::size_t start = 0;
  for (;;) {
    const std::size_t end = std::min(t.find('_', start), t.size());
    std::string word = t.substr(start, end - start);
    const bool has_cased = std::any_of(word.begin(), word.end(), alpha);
    const bool is_upper = has_cased && std::none_of(word.begin(), word.end(), lower);
    if (!is_upper)  // str.capitalize(): first upper, rest lower
      for (std::size_t i = 0; i < word.size(); ++i)
        word[i] = i == 0 ? (lower(word[i]) ? static_cast<char>(word[i] - 'a' + 'A') : word[i]) : detail::ascii_lower(word[i]);
    if (start) out += ' ';
    out += word;
    if (end == t.size()) break;
    start = end + 1;
  }
  return out;
}

/// The run-time description of a Signature (names, DSPy type names, docs, structure lines).
template <Signature Sig>
const SignatureMeta& signature_meta() {
  static_assert(validate_signature<Sig>());
  static const SignatureMeta meta = [] {
    using In = typename Sig::Input;
    using Out = typename Sig::Output;
    SignatureMeta m;
    // An unsupported field type is reported by validate_signature alone.
    if constexpr (FieldType<In> && FieldType<Out>) {
      m.inputs = detail::field_metas<In, false>(&detail::doc_for<Sig>, std::make_index_sequence<field_count<In>>{});
      m.outputs = detail::field_metas<Out, true>(&detail::doc_for<Sig>, std::make_index_sequence<field_count<Out>>{});
    }
    if constexpr (detail::HasInstructions<Sig>) {
      m.default_instructions = std::string(std::string_view{Sig::instructions});
    } else {
      m.default_instructions = "Given the fields " + detail::join_names(m.inputs) + ", produce the fields " +
                               detail::join_names(m.outputs) + ".";
    }
    return m;
  }();
  return meta;
}

}  // namespace dspy

// The bodies; with the compiled part, only <dspy/src.hpp> includes them.
#if !defined(DSPY_SEPARATE_COMPILATION)
#include "signature_impl.hpp"
#endif
