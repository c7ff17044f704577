// SignatureView: a Signature as adapters see it, without its types. One static instance per
// signature holds its SignatureMeta and, per field, the typed operations of field_types.hpp on
// erased pointers (write a value into a prompt, to JSON, read it from text, JSON or XML), so that
// adapters are ordinary, non-template code and any adapter works with any signature.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "../detail/config.hpp"
#include "../detail/text/xml.hpp"
#include "../signatures/demo.hpp"
#include "../signatures/signature.hpp"
#include "types/citations.hpp"
#include "types/reasoning.hpp"
#include "types/tool.hpp"

namespace dspy {

/// One field's typed operations, on the struct that holds it (Sig::Input or Sig::Output) erased
/// to a pointer.
struct FieldCodec {
  const FieldMeta* meta = nullptr;  ///< name, DSPy type name, doc, structure line
  /// The value as DSPy writes it into prompts (strings raw, `True`, JSON for containers).
  void (*render)(std::string& out, const void* object) = nullptr;
  boost::json::value (*to_json)(const void* object) = nullptr;
  /// An optional field without a value (None).
  bool (*is_none)(const void* object) = nullptr;
  /// Reads LM text; returns an error message (pydantic's wording) or nullopt.
  std::optional<std::string> (*parse_text)(std::string_view text, void* object, const ParseContext& ctx) = nullptr;
  /// Reads a JSON value; returns an error message or nullopt.
  std::optional<std::string> (*from_json)(const boost::json::value& v, void* object, const ParseContext& ctx) = nullptr;
  /// Reads the element(s) named after the field (XMLAdapter); returns an error message or nullopt.
  std::optional<std::string> (*from_xml)(const std::vector<const detail::XmlElement*>& elements, void* object,
                                         const ParseContext& ctx) = nullptr;
  bool is_optional = false;  ///< std::optional<T>: may be left out of a reply
  bool nested = false;       ///< a list, map or struct (after removing optional): nested XML
  std::string xml_schema;    ///< nested: the XML skeleton `<f><item>...</item></f>`

  [[nodiscard]] std::string_view name() const noexcept { return meta->name; }
  /// Reads a member of a JSON reply as the JSONAdapter does: a string as LM text, else as JSON.
  [[nodiscard]] std::optional<std::string> read_json(const boost::json::value& v, void* object,
                                                     const ParseContext& ctx) const {
    return v.is_string() ? parse_text(std::string_view(v.get_string()), object, ctx) : from_json(v, object, ctx);
  }
};

/// A signature's fields and their typed operations; `signature_view<Sig>()` gives the one
/// instance per signature.
struct SignatureView {
  const SignatureMeta* meta = nullptr;
  std::vector<FieldCodec> inputs;
  std::vector<FieldCodec> outputs;
  std::span<const std::string_view> output_names;
  /// The OpenAI `response_format` for structured outputs (JSONAdapter), built on first use.
  const boost::json::value& (*response_format)() = nullptr;
  /// A reduced view's (see `without`): the full one's less the outputs left out; else null.
  const boost::json::value* reduced_response_format = nullptr;

  [[nodiscard]] const boost::json::value& structured_response_format() const {
    return reduced_response_format ? *reduced_response_format : response_format();
  }
  /// An input holds a DSPy type that becomes content parts (an Image, ...): user messages are
  /// then cut into parts.
  bool has_parts = false;
  /// The input that is the conversation history (the first dspy::History), or inputs.size().
  std::size_t history = 0;
  /// Outputs an LM may fill natively, or outputs.size(): the first dspy::Reasoning (a reasoning
  /// model's own reasoning) and the first dspy::Citations (Anthropic's citations).
  std::size_t reasoning = 0;
  std::size_t citations = 0;
  /// Native function calling: the first dspy::ToolCalls output (or outputs.size()), and the
  /// first input of dspy::Tool or std::vector<dspy::Tool> (or inputs.size()).
  std::size_t tool_calls = 0;
  std::size_t tools = 0;
  /// This signature without the outputs and inputs of two masks (bit j: field j), as the prompt
  /// shows it when the LM fills outputs natively or takes inputs natively (DSPy's
  /// signature.delete); null when there are none to leave out.
  const SignatureView& (*without)(std::uint64_t outputs, std::uint64_t inputs) = nullptr;
  /// The inputs an Input leaves out of the prompt altogether (bit i; ReActV2's step inputs after
  /// the first step); null when none can be.
  std::uint64_t (*absent)(const void* input) = nullptr;

  [[nodiscard]] std::size_t output_index(std::string_view name) const noexcept {
    return static_cast<std::size_t>(std::find(output_names.begin(), output_names.end(), name) - output_names.begin());
  }
};

/// The values of one side of a signature (inputs or outputs) in a struct, erased, with the fields
/// left out (bit i: field i is absent).
class FieldValues {
 public:
  FieldValues(std::span<const FieldCodec> fields, const void* object, std::uint64_t missing = 0) noexcept
      : fields_(fields), object_(object), missing_(missing) {}
  /// The values of a JSON object by field name (a History turn): a field it lacks is left out,
  /// or, with `absent_is_none`, written as None.
  DSPY_DECL FieldValues(std::span<const FieldCodec> fields, const boost::json::object& values, bool absent_is_none);

  [[nodiscard]] std::size_t size() const noexcept { return fields_.size(); }
  [[nodiscard]] const FieldCodec& field(std::size_t i) const noexcept { return fields_[i]; }
  [[nodiscard]] std::string_view name(std::size_t i) const noexcept { return fields_[i].name(); }
  [[nodiscard]] bool present(std::size_t i) const noexcept { return !(missing_ >> i & 1U); }
  [[nodiscard]] bool is_none(std::size_t i) const {
    return json_ ? json_value(i).is_null() : fields_[i].is_none(object_);
  }
  void render(std::size_t i, std::string& out) const {
    if (json_) render_json(i, out);
    else fields_[i].render(out, object_);
  }
  [[nodiscard]] boost::json::value to_json(std::size_t i) const {
    return json_ ? json_value(i) : fields_[i].to_json(object_);
  }
  [[nodiscard]] std::uint64_t missing() const noexcept { return missing_; }
  /// These values without field i (the history, which is written as turns of its own).
  [[nodiscard]] FieldValues without(std::size_t i) const noexcept {
    FieldValues v = *this;
    if (i < fields_.size()) v.missing_ |= std::uint64_t{1} << i;
    return v;
  }

 private:
  [[nodiscard]] DSPY_DECL const boost::json::value& json_value(std::size_t i) const;
  DSPY_DECL void render_json(std::size_t i, std::string& out) const;

  std::span<const FieldCodec> fields_;
  const void* object_ = nullptr;
  std::uint64_t missing_ = 0;
  const boost::json::object* json_ = nullptr;  // set: the values are this object's, by name
};

/// One demo: its inputs and outputs.
struct DemoView {
  FieldValues inputs;
  FieldValues outputs;
  bool augmented = false;  ///< produced by bootstrapping
};

/// The demos of a call, erased (a contiguous range of Demo<Sig>).
class DemoList {
 public:
  DemoList() = default;
  template <Signature Sig>
  DemoList(std::span<const Demo<Sig>> demos) noexcept  // NOLINT: implicit by design
      : data_(demos.data()), size_(demos.size()), at_(&at<Sig>) {}

  [[nodiscard]] std::size_t size() const noexcept { return size_; }
  [[nodiscard]] bool empty() const noexcept { return size_ == 0; }
  [[nodiscard]] DemoView operator[](std::size_t i) const { return at_(data_, i); }

 private:
  template <Signature Sig>
  static DemoView at(const void* data, std::size_t i);

  const void* data_ = nullptr;
  std::size_t size_ = 0;
  DemoView (*at_)(const void*, std::size_t) = nullptr;
};

namespace detail {

// ---- XML: the skeleton of a nested output, and reading elements into typed values ---------------

template <class T>
constexpr bool uses_nested_xml() {
  using U = typename unwrap_optional<T>::type;
  return Vector<U> || StringMap<U> || Struct<U>;
}

template <class T>
void xml_schema(std::string& out, std::string_view tag) {
  using U = typename unwrap_optional<T>::type;
  out += '<';
  out += tag;
  out += '>';
  if constexpr (Vector<U>) {
    xml_schema<typename U::value_type>(out, "item");
  } else if constexpr (Struct<U>) {
    if constexpr (field_count<U> == 0) out += "...";
    [&]<std::size_t... I>(std::index_sequence<I...>) {
      (xml_schema<field_type<I, U>>(out, field_names<U>[I]), ...);
    }(std::make_index_sequence<field_count<U>>{});
  } else {
    out += "...";
  }
  out += "</";
  out += tag;
  out += '>';
}

struct XmlGroup {
  std::string_view name;
  std::vector<const XmlElement*> elements;
};

// The children of an element by name (a dict entry by its key), in first-seen order.
DSPY_DECL std::vector<XmlGroup> group_children(const XmlElement& e);

DSPY_DECL const XmlGroup* find_group(const std::vector<XmlGroup>& groups, std::string_view name);

// XMLAdapter._elements_to_value, typed: reads the element(s) of one field into a T.
template <class T>
std::optional<std::string> xml_to(const std::vector<const XmlElement*>& els, T& out, const ParseContext& ctx,
                                  const std::string& path) {
  const XmlElement& e = *els.front();
  const std::string_view text = trim(e.text);
  if constexpr (Optional<T>) {
    if (e.children.empty() && text.empty()) {
      out.reset();
      return std::nullopt;
    }
    typename T::value_type inner{};
    if (auto err = xml_to(els, inner, ctx, path)) return err;
    out = std::move(inner);
    return std::nullopt;
  } else if constexpr (String<T>) {
    if (e.children.empty()) {
      out.assign(text);
    } else {
      out = e.text;
      for (const auto& c : e.children) (out += c.raw) += c.tail;
    }
    return std::nullopt;
  } else if constexpr (Vector<T>) {
    std::vector<const XmlElement*> items = els;
    if (els.size() == 1 && e.children.empty()) {
      if (text.empty()) {
        out.clear();
        return std::nullopt;
      }
      if (text.front() == '[') return parse_text(text, out, ctx);
    } else if (els.size() == 1) {
      const auto groups = group_children(e);
      if (const auto* g = find_group(groups, "item")) items = g->elements;
    }
    T result(items.size());
    for (std::size_t i = 0; i < items.size(); ++i)
      if (auto err = xml_to(std::vector<const XmlElement*>{items[i]}, result[i], ctx, path + "[" + std::to_string(i) + "]"))
        return err;
    out = std::move(result);
    return std::nullopt;
  } else if constexpr (StringMap<T> || Struct<T>) {
    if (e.children.empty()) {
      if (!text.empty()) return parse_text(text, out, ctx);
      if constexpr (StringMap<T>) {
        out.clear();
        return std::nullopt;
      }
    }
    const auto groups = group_children(e);
    T result{};
    if constexpr (StringMap<T>) {
      for (const auto& g : groups)
        if (auto err = xml_to(g.elements, result[std::string(g.name)], ctx, path + "['" + std::string(g.name) + "']"))
          return err;
    } else {
      std::optional<std::string> error;
      std::size_t i = 0;
      for_each_field(result, [&](auto& f) {
        const std::string_view name = field_names<T>[i++];
        if (error) return;
        const std::string sub = path.empty() ? std::string(name) : path + "." + std::string(name);
        if (const auto* g = find_group(groups, name)) error = xml_to(g->elements, f, ctx, sub);
        else if constexpr (!Optional<std::remove_cvref_t<decltype(f)>>) error = "`" + sub + "`: missing field";
      });
      if (error) return error;
    }
    out = std::move(result);
    return std::nullopt;
  } else {
    if (auto err = parse_text(text, out, ctx)) return path.empty() ? err : "`" + path + "`: " + *err;
    return std::nullopt;
  }
}

// ---- JSONAdapter's structured-output response_format --------------------------------------------

// JSONAdapter._get_structured_outputs_response_format: every object lists all its properties as
// required and forbids others.
DSPY_DECL void enforce_required(boost::json::value& v);

// The format for Out's outputs but those of `left_out` (bit j: output j).
template <class Out>
boost::json::value build_response_format(std::uint64_t left_out) {
  bool open_mapping = false;
  boost::json::object defs;
  boost::json::object properties;
  [&]<std::size_t... I>(std::index_sequence<I...>) {
    (
        [&] {
          if (left_out >> I & 1U) return;
          using F = field_type<I, Out>;
          // A ToolCalls output's calls hold arguments of any shape (DSPy: json_object mode).
          open_mapping = open_mapping || StringMap<F> || JsonObject<F> || std::is_same_v<F, ToolCalls>;
          boost::json::object prop = schema_node<F>(defs);
          if constexpr (!Struct<typename unwrap_optional<F>::type> && !Enum<typename unwrap_optional<F>::type>)
            prop["title"] = title_case(field_names<Out>[I]);
          properties[field_names<Out>[I]] = std::move(prop);
        }(),
        ...);
  }(std::make_index_sequence<field_count<Out>>{});
  // Structured outputs need every property declared: open-ended maps get plain JSON mode.
  if (open_mapping) return boost::json::value{{"type", "json_object"}};
  boost::json::value schema = boost::json::object{
      {"type", "object"}, {"properties", std::move(properties)}, {"title", "DSPyProgramOutputs"}};
  if (!defs.empty()) schema.get_object()["$defs"] = std::move(defs);
  enforce_required(schema);
  return boost::json::value{
      {"type", "json_schema"},
      {"json_schema", {{"name", "DSPyProgramOutputs"}, {"strict", true}, {"schema", std::move(schema)}}}};
}

template <class Out>
const boost::json::value& json_response_format() {
  static const boost::json::value format = build_response_format<Out>(0);
  return format;
}

// ---- the codecs ---------------------------------------------------------------------------------

template <class S, std::size_t I>
FieldCodec field_codec(const FieldMeta& meta) {
  using T = field_type<I, S>;
  FieldCodec c;
  c.meta = &meta;
  c.render = [](std::string& out, const void* s) { render_value(out, get_field<I>(*static_cast<const S*>(s))); };
  c.to_json = [](const void* s) { return dspy::to_json(get_field<I>(*static_cast<const S*>(s))); };
  c.is_none = [](const void* s) {
    if constexpr (Optional<T>) return !get_field<I>(*static_cast<const S*>(s)).has_value();
    else return false;
  };
  c.parse_text = [](std::string_view t, void* s, const ParseContext& ctx) {
    return dspy::parse_text(t, get_field<I>(*static_cast<S*>(s)), ctx);
  };
  c.from_json = [](const boost::json::value& v, void* s, const ParseContext& ctx) {
    return dspy::from_json(v, get_field<I>(*static_cast<S*>(s)), ctx, std::string(field_names<S>[I]));
  };
  c.from_xml = [](const std::vector<const XmlElement*>& els, void* s, const ParseContext& ctx) {
    return xml_to(els, get_field<I>(*static_cast<S*>(s)), ctx, {});
  };
  c.is_optional = Optional<T>;
  c.nested = uses_nested_xml<T>();
  if constexpr (uses_nested_xml<T>()) xml_schema<T>(c.xml_schema, field_names<S>[I]);
  return c;
}

template <class S>
std::vector<FieldCodec> field_codecs(const std::vector<FieldMeta>& metas) {
  return [&]<std::size_t... I>(std::index_sequence<I...>) {
    return std::vector<FieldCodec>{field_codec<S, I>(metas[I])...};
  }(std::make_index_sequence<field_count<S>>{});
}

}  // namespace detail

template <Signature Sig>
const SignatureView& signature_view();

namespace detail {
// A view without some outputs: its meta and codecs less those fields (the codecs still address
// the whole Output struct, so the fields keep their default values until filled natively).
struct ReducedView {
  SignatureMeta meta;
  std::vector<std::string_view> names;
  boost::json::value response_format;
  SignatureView view;
};
DSPY_DECL std::unique_ptr<ReducedView> reduce_view(const SignatureView& full, std::uint64_t outputs,
                                                   std::uint64_t inputs, boost::json::value response_format);

using ResponseFormatBuilder = boost::json::value (*)(std::uint64_t left_out);

using ReducedViews = std::vector<std::pair<std::pair<std::uint64_t, std::uint64_t>, std::unique_ptr<ReducedView>>>;

// The reduced views of one signature, made on first use (at most one per mask, kept for good).
DSPY_DECL const SignatureView& cached_reduced_view(const SignatureView& full, std::uint64_t outputs,
                                                   std::uint64_t inputs, ReducedViews& cache, std::mutex& mutex,
                                                   ResponseFormatBuilder format);

template <Signature Sig>
const SignatureView& view_without(std::uint64_t outputs, std::uint64_t inputs) {
  static std::mutex mutex;
  static ReducedViews cache;
  return cached_reduced_view(signature_view<Sig>(), outputs, inputs, cache, mutex,
                             &build_response_format<typename Sig::Output>);
}

template <class T>
constexpr bool is_tools_input() {
  if constexpr (Vector<T>) return std::is_same_v<typename T::value_type, Tool>;
  else return std::is_same_v<T, Tool>;
}

// An input of this kind (ReActV2's step inputs) is left out of the prompt when empty.
template <class T>
concept OmittableInput = requires { T::omittable; };

template <class In>
std::uint64_t absent_inputs(const void* input) {
  const In& in = *static_cast<const In*>(input);
  std::uint64_t out = 0;
  [&]<std::size_t... I>(std::index_sequence<I...>) {
    (
        [&] {
          if constexpr (OmittableInput<field_type<I, In>>)
            if (!get_field<I>(in).has_value()) out |= std::uint64_t{1} << I;
        }(),
        ...);
  }(std::make_index_sequence<field_count<In>>{});
  return out;
}
}  // namespace detail

/// The view of a signature; one instance per signature, built on first use.
template <Signature Sig>
const SignatureView& signature_view() {
  static const SignatureView view = [] {
    using In = typename Sig::Input;
    using Out = typename Sig::Output;
    const SignatureMeta& meta = signature_meta<Sig>();
    SignatureView v;
    v.meta = &meta;
    v.inputs = detail::field_codecs<In>(meta.inputs);
    v.outputs = detail::field_codecs<Out>(meta.outputs);
    v.output_names = field_names<Out>;
    v.response_format = &detail::json_response_format<Out>;
    v.history = field_count<In>;
    v.reasoning = v.citations = v.tool_calls = field_count<Out>;
    v.tools = field_count<In>;
    [&]<std::size_t... I>(std::index_sequence<I...>) {
      const bool is_reasoning[] = {false, std::is_same_v<field_type<I, Out>, Reasoning>...};
      const bool is_citations[] = {false, std::is_same_v<field_type<I, Out>, Citations>...};
      const bool is_tool_calls[] = {false, std::is_same_v<field_type<I, Out>, ToolCalls>...};
      for (std::size_t i = field_count<Out>; i-- > 0;) {
        if (is_reasoning[i + 1]) v.reasoning = i;
        if (is_citations[i + 1]) v.citations = i;
        if (is_tool_calls[i + 1]) v.tool_calls = i;
      }
    }(std::make_index_sequence<field_count<Out>>{});
    if (v.reasoning < field_count<Out> || v.citations < field_count<Out> || v.tool_calls < field_count<Out>)
      v.without = &detail::view_without<Sig>;
    [&]<std::size_t... I>(std::index_sequence<I...>) {
      v.has_parts = (detail::holds_parts<field_type<I, In>>() || ...);
      const bool is_history[] = {false, requires { field_type<I, In>::is_history; }...};
      const bool is_tools[] = {false, detail::is_tools_input<field_type<I, In>>()...};
      for (std::size_t i = field_count<In>; i-- > 0;) {
        if (is_history[i + 1]) v.history = i;
        if (is_tools[i + 1]) v.tools = i;
      }
      if constexpr ((detail::OmittableInput<field_type<I, In>> || ...)) v.absent = &detail::absent_inputs<In>;
    }(std::make_index_sequence<field_count<In>>{});
    return v;
  }();
  return view;
}

template <Signature Sig>
DemoView DemoList::at(const void* data, std::size_t i) {
  const SignatureView& sig = signature_view<Sig>();
  const Demo<Sig>& d = static_cast<const Demo<Sig>*>(data)[i];
  constexpr std::size_t n_in = Demo<Sig>::input_count;
  constexpr std::uint64_t in_mask = n_in == 0 ? 0 : (~std::uint64_t{0} >> (64 - n_in));
  constexpr std::uint64_t out_mask = ~std::uint64_t{0} >> (64 - Demo<Sig>::output_count);
  return {FieldValues(sig.inputs, &d.input, d.missing & in_mask),
          FieldValues(sig.outputs, &d.output, (d.missing >> n_in) & out_mask), d.augmented};
}

}  // namespace dspy

// The bodies; with the compiled part, only <dspy/src.hpp> includes them.
#if !defined(DSPY_SEPARATE_COMPILATION)
#include "signature_view_impl.hpp"
#endif
