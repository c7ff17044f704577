// Adapters turn a Signature, demos and inputs into chat messages, and a completion back into the
// Signature's Output: ChatAdapter, JSONAdapter and XMLAdapter, byte-identical to DSPy 3.3.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "../signatures/demo.hpp"
#include "../detail/text/xml.hpp"
#include "../primitives/error.hpp"
#include "../primitives/message.hpp"
#include "../signatures/signature.hpp"

namespace dspy {

/// DSPy's default: `[[ ## field ## ]]` sections. On a parse failure Predict retries once with the
/// JSONAdapter unless `use_json_adapter_fallback` is false.
struct ChatAdapter {
  bool use_json_adapter_fallback = true;
  static constexpr std::string_view name = "ChatAdapter";
};

/// Outputs as one JSON object; asks the provider for structured output.
struct JSONAdapter {
  static constexpr std::string_view name = "JSONAdapter";
};

/// Fields as XML elements (`<answer>...</answer>`), nested XML for lists, maps and structs.
struct XMLAdapter {
  static constexpr std::string_view name = "XMLAdapter";
};

using Adapter = std::variant<ChatAdapter, JSONAdapter, XMLAdapter>;

namespace detail {

inline constexpr std::string_view kIncompleteDemoPrefix =
    "This is an example of the task, though some input or output fields are not supplied.";
inline constexpr std::string_view kMissingInDemo = "Not supplied for this particular example. ";
inline constexpr std::string_view kMissingInHistory = "Not supplied for this conversation history message. ";

inline std::string_view py_strip(std::string_view s) { return trim(s); }

// str.strip() in place: the prompt builders' hot path, so no copy.
inline std::string&& strip_in_place(std::string&& s) {
  std::size_t end = s.size();
  while (end > 0 && is_space(s[end - 1])) --end;
  s.resize(end);
  std::size_t begin = 0;
  while (begin < s.size() && is_space(s[begin])) ++begin;
  s.erase(0, begin);
  return std::move(s);
}

// textwrap.dedent then splitlines, each line prefixed by "\n" + 8 spaces.
inline std::string task_description(std::string_view instructions) {
  std::vector<std::string_view> lines;
  for (std::size_t pos = 0; pos < instructions.size();) {
    std::size_t nl = instructions.find('\n', pos);
    if (nl == std::string_view::npos) nl = instructions.size();
    std::string_view line = instructions.substr(pos, nl - pos);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    lines.push_back(line);
    pos = nl + 1;
  }
  std::size_t common = std::string_view::npos;
  std::string_view margin;
  for (auto line : lines) {
    const std::size_t indent = line.find_first_not_of(" \t");
    if (indent == std::string_view::npos) continue;  // blank lines do not count
    const std::string_view m = line.substr(0, indent);
    if (common == std::string_view::npos) {
      margin = m;
      common = m.size();
    } else {
      std::size_t k = 0;
      while (k < common && k < m.size() && margin[k] == m[k]) ++k;
      common = k;
    }
  }
  std::string out = "In adhering to this structure, your objective is: ";
  for (auto line : lines) {
    out += "\n        ";
    if (line.find_first_not_of(" \t") == std::string_view::npos) continue;
    out += line.substr(common == std::string_view::npos ? 0 : common);
  }
  return out;
}

inline std::string field_description(const SignatureMeta& m) {
  const auto describe = [](const std::vector<FieldMeta>& fields) {
    std::string s;
    for (std::size_t i = 0; i < fields.size(); ++i) {
      if (i) s += '\n';
      append_int(s, i + 1);
      s += ". `";
      s += fields[i].name;
      s += "` (";
      s += fields[i].type_name;
      s += "): ";
      s += fields[i].desc;
    }
    return strip_in_place(std::move(s));
  };
  return "Your input fields are:\n" + describe(m.inputs) + "\nYour output fields are:\n" + describe(m.outputs);
}

inline constexpr std::string_view kStructureIntro =
    "All interactions will be structured in the following way, with the appropriate values filled in.";

inline void append_marker_block(std::string& out, std::string_view name, std::string_view value) {
  out += "[[ ## ";
  out += name;
  out += " ## ]]\n";
  out += value;
}

inline std::string marker_blocks(const std::vector<FieldMeta>& fields) {
  std::string s;
  for (std::size_t i = 0; i < fields.size(); ++i) {
    if (i) s += "\n\n";
    append_marker_block(s, fields[i].name, fields[i].structure);
  }
  return strip_in_place(std::move(s));
}

inline std::string join_parts(std::initializer_list<std::string_view> parts) {
  std::string s;
  bool first = true;
  for (auto p : parts) {
    if (!first) s += "\n\n";
    first = false;
    s += p;
  }
  return strip_in_place(std::move(s));
}

inline std::string type_info(const FieldMeta& f) {
  return f.is_str ? std::string() : " (must be formatted as a valid Python " + f.type_name + ")";
}

// ---- XML helpers ---------------------------------------------------------------------------------

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

inline bool xml_identifier(std::string_view name) {
  if (name.empty()) return false;
  const auto ok = [](char c, bool first) {
    if (c == '-' || c == '.') c = '_';
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (!first && c >= '0' && c <= '9') ||
           static_cast<unsigned char>(c) >= 0x80;
  };
  if (!ok(name[0] == '-' || name[0] == '.' ? '!' : name[0], true)) return false;
  for (std::size_t i = 1; i < name.size(); ++i)
    if (!ok(name[i], false)) return false;
  return true;
}

// XMLAdapter._value_to_xml on the JSON form of a value.
inline void value_to_xml(std::string& out, const boost::json::value& v, std::string_view tag,
                         std::string_view key = {}, bool has_key = false) {
  const auto open = [&] {
    out += '<';
    out += tag;
    if (has_key) {
      out += " key=";
      append_json_string(out, key);  // quoteattr: plain keys come out the same
    }
  };
  const auto close = [&] {
    out += "</";
    out += tag;
    out += '>';
  };
  if (v.is_array()) {
    open();
    if (v.get_array().empty()) {
      out += " />";
      return;
    }
    out += '>';
    for (const auto& item : v.get_array()) value_to_xml(out, item, "item");
    close();
  } else if (v.is_object()) {
    open();
    out += '>';
    for (const auto& kv : v.get_object()) {
      if (xml_identifier(kv.key())) value_to_xml(out, kv.value(), kv.key());
      else value_to_xml(out, kv.value(), "entry", kv.key(), true);
    }
    close();
  } else if (v.is_null()) {
    open();
    out += " />";
  } else {
    open();
    out += '>';
    std::string text;
    if (v.is_string()) text = v.get_string();
    else if (v.is_bool()) text = v.get_bool() ? "True" : "False";
    else if (v.is_double()) append_py_float(text, v.get_double());
    else text = boost::json::serialize(v);
    append_xml_text(out, text);
    close();
  }
}

struct XmlGroup {
  std::string_view name;
  std::vector<const XmlElement*> elements;
};

inline std::vector<XmlGroup> group_children(const XmlElement& e) {
  std::vector<XmlGroup> groups;
  for (const auto& c : e.children) {
    const std::string_view name = c.tag == "entry" && !c.key.empty() ? std::string_view(c.key) : std::string_view(c.tag);
    auto it = std::find_if(groups.begin(), groups.end(), [&](const XmlGroup& g) { return g.name == name; });
    if (it == groups.end()) groups.push_back({name, {&c}});
    else it->elements.push_back(&c);
  }
  return groups;
}

inline const XmlGroup* find_group(const std::vector<XmlGroup>& groups, std::string_view name) {
  for (const auto& g : groups)
    if (g.name == name) return &g;
  return nullptr;
}

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

// "[[ ## name ## ]]" at the start of a (stripped) line; tolerates missing or extra spaces.
inline bool match_chat_header(std::string_view line, std::string_view& name, std::size_t& end) {
  if (!line.starts_with("[[")) return false;
  std::size_t i = 2;
  const auto spaces = [&] {
    while (i < line.size() && line[i] == ' ') ++i;
  };
  spaces();
  if (line.substr(i, 2) != "##") return false;
  i += 2;
  spaces();
  const std::size_t start = i;
  while (i < line.size() && (is_ident_char(line[i]) || static_cast<unsigned char>(line[i]) >= 0x80)) ++i;
  if (i == start) return false;
  name = line.substr(start, i - start);
  spaces();
  if (line.substr(i, 2) != "##") return false;
  i += 2;
  spaces();
  if (line.substr(i, 2) != "]]") return false;
  end = i + 2;
  return true;
}

// ---- the adapters, per signature ------------------------------------------------------------------

template <class Sig>
struct AdapterImpl {
  using In = typename Sig::Input;
  using Out = typename Sig::Output;
  using InTable = FieldTable<In>;
  using OutTable = FieldTable<Out>;
  static constexpr std::size_t n_in = InTable::size;
  static constexpr std::size_t n_out = OutTable::size;

  static const SignatureMeta& meta() { return signature_meta<Sig>(); }

  // -- system message --
  static std::string structure(const ChatAdapter&) {
    return join_parts({kStructureIntro, marker_blocks(meta().inputs), marker_blocks(meta().outputs),
                       "[[ ## completed ## ]]\n"});
  }
  static std::string structure(const JSONAdapter&) {
    boost::json::object outputs;
    for (const auto& f : meta().outputs) outputs[f.name] = f.structure;
    return join_parts({kStructureIntro, "Inputs will have the following structure:", marker_blocks(meta().inputs),
                       "Outputs will be a JSON object with the following fields.", py_json(outputs, false, 2)});
  }
  static std::string structure(const XMLAdapter&) {
    std::string s(kStructureIntro);
    const auto group = [&](const std::vector<FieldMeta>& fields, bool outputs) {
      s += "\n\n";
      std::string g;
      for (std::size_t i = 0; i < fields.size(); ++i) {
        if (i) g += "\n\n";
        if (outputs && nested_output[i]) g += output_schemas()[i];
        else xml_block(g, fields[i].name, fields[i].structure);
      }
      s += py_strip(g);
    };
    group(meta().inputs, false);
    group(meta().outputs, true);
    return s;
  }

  static std::string system_message(const Adapter& a, std::string_view instructions) {
    return std::visit(
        [&](const auto& kind) {
          return field_description(meta()) + "\n" + structure(kind) + "\n" + task_description(instructions);
        },
        a);
  }

  // -- user messages --
  static void xml_block(std::string& out, std::string_view name, std::string_view value) {
    out += '<';
    out += name;
    out += ">\n";
    out += value;
    out += "\n</";
    out += name;
    out += '>';
  }

  template <class Kind>
  static void input_blocks(std::string& out, const Kind&, const In& input, std::uint64_t missing) {
    bool first = true;
    for (std::size_t i = 0; i < n_in; ++i) {
      if (missing >> i & 1U) continue;
      if (!first) out += "\n\n";
      first = false;
      const std::string_view name = field_names<In>[i];
      if constexpr (std::is_same_v<Kind, XMLAdapter>) {
        ((out += '<') += name) += ">\n";
        InTable::ops.render[i](out, input);
        ((out += "\n</") += name) += '>';
      } else {
        append_marker_block(out, name, {});
        InTable::ops.render[i](out, input);
      }
    }
  }

  static std::string output_requirements(const ChatAdapter&) {
    std::string s = "Respond with the corresponding output fields, starting with the field ";
    for (std::size_t i = 0; i < n_out; ++i) {
      if (i) s += ", then ";
      s += "`[[ ## ";
      s += meta().outputs[i].name;
      s += " ## ]]`";
      s += type_info(meta().outputs[i]);
    }
    return s + ", and then ending with the marker for `[[ ## completed ## ]]`.";
  }
  static std::string output_requirements(const JSONAdapter&) {
    std::string s = "Respond with a JSON object in the following order of fields: ";
    for (std::size_t i = 0; i < n_out; ++i) {
      if (i) s += ", then ";
      s += '`';
      s += meta().outputs[i].name;
      s += '`';
      s += type_info(meta().outputs[i]);
    }
    return s + ".";
  }
  static std::string output_requirements(const XMLAdapter&) {
    std::string s = "Respond with the corresponding output fields wrapped in XML tags ";
    std::string schemas;
    for (std::size_t i = 0; i < n_out; ++i) {
      if (i) s += ", then ";
      s += "`<";
      s += meta().outputs[i].name;
      s += ">`";
      if (nested_output[i]) {
        if (!schemas.empty()) schemas += ' ';
        schemas += output_schemas()[i];
      }
    }
    s += '.';
    if (!schemas.empty()) s += " Use this nested XML structure: " + schemas;
    return s;
  }

  // "\n\n".join([prefix, *blocks, requirements, suffix]).strip()
  template <class Kind>
  static std::string user_content(const Kind& kind, const In& input, std::uint64_t missing, std::string_view prefix,
                                  const std::string* requirements) {
    std::string s;
    s.reserve(256);
    s += prefix;
    s += "\n\n";
    input_blocks(s, kind, input, missing);
    if (requirements) {
      s += "\n\n";
      s += *requirements;
    }
    return strip_in_place(std::move(s));
  }

  // -- assistant messages (demos) --
  static std::string assistant_content(const ChatAdapter&, const Out& out, std::uint64_t missing,
                                       std::string_view missing_message) {
    std::string s;
    for (std::size_t j = 0; j < n_out; ++j) {
      if (j) s += "\n\n";
      append_marker_block(s, field_names<Out>[j], {});
      if (missing >> j & 1U) s += missing_message;
      else OutTable::ops.render[j](s, out);
    }
    strip_in_place(std::move(s));
    s += "\n\n[[ ## completed ## ]]\n";
    return s;
  }
  static std::string assistant_content(const JSONAdapter&, const Out& out, std::uint64_t missing,
                                       std::string_view missing_message) {
    boost::json::object o;
    for (std::size_t j = 0; j < n_out; ++j)
      o[field_names<Out>[j]] = (missing >> j & 1U) ? boost::json::value(missing_message) : OutTable::ops.to_json[j](out);
    return py_json(o, false, 2);
  }
  static std::string assistant_content(const XMLAdapter&, const Out& out, std::uint64_t missing,
                                       std::string_view missing_message) {
    std::string s;
    std::string value;
    for (std::size_t j = 0; j < n_out; ++j) {
      if (j) s += "\n\n";
      const std::string_view name = field_names<Out>[j];
      if (!(missing >> j & 1U) && nested_output[j]) {
        const boost::json::value v = OutTable::ops.to_json[j](out);
        if (v.is_array() || v.is_object()) {
          value_to_xml(s, v, name);
          continue;
        }
      }
      value.clear();
      if (missing >> j & 1U) {
        value = missing_message;
      } else {
        OutTable::ops.render[j](value, out);
        if (OutTable::ops.is_str[j]) {
          std::string escaped;
          append_xml_text(escaped, value);
          value = std::move(escaped);
        }
      }
      xml_block(s, name, value);
    }
    return strip_in_place(std::move(s));
  }

  static constexpr std::array<bool, n_out> nested_output = []<std::size_t... I>(std::index_sequence<I...>) {
    return std::array<bool, n_out>{uses_nested_xml<field_type<I, Out>>()...};
  }(std::make_index_sequence<n_out>{});

  static const std::array<std::string, n_out>& output_schemas() {
    static const auto schemas = []<std::size_t... I>(std::index_sequence<I...>) {
      std::array<std::string, n_out> s;
      (
          [&] {
            if constexpr (nested_output[I]) xml_schema<field_type<I, Out>>(s[I], field_names<Out>[I]);
          }(),
          ...);
      return s;
    }(std::make_index_sequence<n_out>{});
    return schemas;
  }

  // -- whole conversations --
  static std::vector<Message> format(const Adapter& adapter, std::string system, std::span<const Demo<Sig>> demos,
                                     const In& input) {
    return std::visit(
        [&](const auto& kind) {
          std::vector<Message> messages;
          messages.reserve(2 + 2 * demos.size());
          messages.push_back({"system", std::move(system)});
          append_demos(messages, kind, demos);
          static const std::string requirements = output_requirements(kind);  // depends on Sig alone
          messages.push_back({"user", user_content(kind, input, 0, {}, &requirements)});
          return messages;
        },
        adapter);
  }

  // Adapter.format_demos: incomplete demos first, with the "not supplied" wording; demos without
  // any input or without any output are dropped.
  template <class Kind>
  static void append_demos(std::vector<Message>& messages, const Kind& kind, std::span<const Demo<Sig>> demos) {
    const std::uint64_t in_mask = n_in == 0 ? 0 : (~std::uint64_t{0} >> (64 - n_in));
    const std::uint64_t out_mask = (~std::uint64_t{0} >> (64 - n_out));
    const auto complete = [&](const Demo<Sig>& d) {
      if (d.missing != 0) return false;
      for (std::size_t i = 0; i < n_in; ++i)
        if (InTable::ops.is_none[i](d.input)) return false;
      for (std::size_t j = 0; j < n_out; ++j)
        if (OutTable::ops.is_none[j](d.output)) return false;
      return true;
    };
    for (const auto& d : demos) {
      const std::uint64_t in_missing = d.missing & in_mask;
      const std::uint64_t out_missing = (d.missing >> n_in) & out_mask;
      if (complete(d) || in_missing == in_mask || out_missing == out_mask) continue;
      messages.push_back({"user", user_content(kind, d.input, in_missing, kIncompleteDemoPrefix, nullptr)});
      messages.push_back({"assistant", assistant_content(kind, d.output, out_missing, kMissingInDemo)});
    }
    for (const auto& d : demos) {
      if (!complete(d)) continue;
      messages.push_back({"user", user_content(kind, d.input, 0, {}, nullptr)});
      messages.push_back({"assistant", assistant_content(kind, d.output, 0, kMissingInHistory)});
    }
  }

  // -- parsing --
  static Error parse_error(Errc code, std::string_view adapter, std::string_view completion, std::string message,
                           const std::uint64_t* parsed, std::string field = {}) {
    std::string msg = message.empty() ? std::string() : std::move(message) + "\n\n";
    msg += "Adapter ";
    msg += adapter;
    msg += " failed to parse the LM response. \n\nLM Response: ";
    msg += completion;
    msg += " \n\nExpected to find output fields in the LM response: [";
    for (std::size_t j = 0; j < n_out; ++j) {
      if (j) msg += ", ";
      msg += field_names<Out>[j];
    }
    msg += "] \n\n";
    if (parsed) {
      msg += "Actual output fields parsed from the LM response: [";
      bool first = true;
      for (std::size_t j = 0; j < n_out; ++j) {
        if (!(*parsed >> j & 1U)) continue;
        if (!first) msg += ", ";
        first = false;
        msg += field_names<Out>[j];
      }
      msg += "] \n\n";
    }
    return Error(code, std::move(msg), std::string(completion), std::move(field));
  }

  static constexpr std::uint64_t all_outputs = ~std::uint64_t{0} >> (64 - n_out);

  // apply_output_field_defaults: a missing optional field is None; any other missing field fails.
  static std::optional<Error> check_complete(std::string_view adapter, std::string_view completion,
                                             std::uint64_t& seen) {
    for (std::size_t j = 0; j < n_out; ++j)
      if (!(seen >> j & 1U) && is_optional_field[j]) seen |= std::uint64_t{1} << j;
    if (seen == all_outputs) return std::nullopt;
    std::string missing;
    for (std::size_t j = 0; j < n_out; ++j)
      if (!(seen >> j & 1U)) {
        missing = field_names<Out>[j];
        break;
      }
    return parse_error(Errc::missing_field, adapter, completion, {}, &seen, std::move(missing));
  }

  static constexpr std::array<bool, n_out> is_optional_field = []<std::size_t... I>(std::index_sequence<I...>) {
    return std::array<bool, n_out>{Optional<field_type<I, Out>>...};
  }(std::make_index_sequence<n_out>{});

  static Result<Out> parse(const ChatAdapter&, std::string_view completion, std::vector<ParseNote>* notes) {
    // Each header opens a section; the first section of each output field is parsed when the next
    // header (or the end) closes it. Text before any header and unknown sections are ignored.
    Out out{};
    std::uint64_t seen = 0;
    std::size_t current = n_out;
    std::string text;
    std::optional<Error> error;
    const auto finish = [&] {
      if (current < n_out && !(seen >> current & 1U) && !error) {
        const std::string_view value = py_strip(text);
        const ParseContext ctx{notes, field_names<Out>[current]};
        if (auto err = OutTable::ops.parse[current](value, out, ctx)) {
          error = parse_error(Errc::type_mismatch, ChatAdapter::name, completion,
                              "Failed to parse field " + std::string(field_names<Out>[current]) + " with value " +
                                  std::string(value) + " from the LM response. Error message: " + *err,
                              nullptr, std::string(field_names<Out>[current]));
        }
        seen |= std::uint64_t{1} << current;
      }
      text.clear();
    };
    for (std::size_t pos = 0; pos < completion.size() && !error;) {
      std::size_t nl = completion.find('\n', pos);
      if (nl == std::string_view::npos) nl = completion.size();
      std::string_view line = completion.substr(pos, nl - pos);
      if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
      pos = nl + 1;
      const std::string_view stripped = py_strip(line);
      std::string_view name;
      std::size_t end = 0;
      if (match_chat_header(stripped, name, end)) {
        finish();
        current = OutTable::index_of(name);
        const std::string_view rest = py_strip(stripped.substr(end));
        text.assign(rest);
        if (!rest.empty()) text += '\n';
        continue;
      }
      if (current < n_out) {
        text += line;
        text += '\n';
      }
    }
    finish();
    if (error) return std::move(*error);
    if (auto missing = check_complete(ChatAdapter::name, completion, seen)) return std::move(*missing);
    return out;
  }

  static Result<Out> parse(const JSONAdapter&, std::string_view completion, std::vector<ParseNote>* notes) {
    std::string how;
    auto json = parse_json_tolerant(completion, &how);
    if (!json || !json->is_object())
      return parse_error(Errc::parse_error, JSONAdapter::name, completion,
                         "LM response cannot be serialized to a JSON object.", nullptr);
    if (!how.empty() && notes) notes->push_back({"", how});
    Out out{};
    std::uint64_t seen = 0;
    for (const auto& kv : json->get_object()) {
      const std::size_t j = OutTable::index_of(kv.key());
      if (j >= n_out) continue;
      const ParseContext ctx{notes, field_names<Out>[j]};
      std::optional<std::string> err;
      if (kv.value().is_string()) err = OutTable::ops.parse[j](std::string_view(kv.value().get_string()), out, ctx);
      else err = OutTable::ops.from_json[j](kv.value(), out, ctx);
      if (err)
        return parse_error(Errc::type_mismatch, JSONAdapter::name, completion,
                           "Failed to parse field " + std::string(field_names<Out>[j]) + " with value " +
                               boost::json::serialize(kv.value()) + " from the LM response. Error message: " + *err,
                           nullptr, std::string(field_names<Out>[j]));
      seen |= std::uint64_t{1} << j;
    }
    if (auto missing = check_complete(JSONAdapter::name, completion, seen)) return std::move(*missing);
    return out;
  }

  static Result<Out> parse(const XMLAdapter&, std::string_view completion, std::vector<ParseNote>* notes) {
    XmlReader reader(completion);
    std::optional<XmlElement> root = reader.parse_root();
    Out out{};
    std::uint64_t seen = 0;
    if (!root) {
      // LMs write "a < b" unescaped: beyond DSPy, read each field's text between its tags.
      for (std::size_t j = 0; j < n_out; ++j) {
        const std::string name(field_names<Out>[j]);
        const std::size_t open = completion.find("<" + name + ">");
        if (open == std::string_view::npos) continue;
        const std::size_t start = open + name.size() + 2;
        const std::size_t close = completion.find("</" + name + ">", start);
        if (close == std::string_view::npos) continue;
        const ParseContext ctx{notes, field_names<Out>[j]};
        ctx.note("read the field without an XML parser: " + reader.error());
        if (auto err = OutTable::ops.parse[j](py_strip(completion.substr(start, close - start)), out, ctx))
          return parse_error(Errc::type_mismatch, XMLAdapter::name, completion,
                             "Failed to parse field " + name + ": " + *err, nullptr, name);
        seen |= std::uint64_t{1} << j;
      }
      if (seen == 0)
        return parse_error(Errc::parse_error, XMLAdapter::name, completion, "Failed to parse XML: " + reader.error(),
                           nullptr);
    } else {
      const auto groups = group_children(*root);
      std::optional<Error> error;
      std::size_t j = 0;
      for_each_field(out, [&](auto& f) {
        const std::size_t idx = j++;
        if (error) return;
        const auto* g = find_group(groups, field_names<Out>[idx]);
        if (!g) return;
        const ParseContext ctx{notes, field_names<Out>[idx]};
        if (auto err = xml_to(g->elements, f, ctx, {})) {
          const std::string name(field_names<Out>[idx]);
          error = parse_error(Errc::type_mismatch, XMLAdapter::name, completion,
                              "Failed to parse field " + name + ": " + *err, nullptr, name);
        }
        seen |= std::uint64_t{1} << idx;
      });
      if (error) return std::move(*error);
    }
    if (auto missing = check_complete(XMLAdapter::name, completion, seen)) return std::move(*missing);
    return out;
  }
};

}  // namespace detail

/// The adapter's name as DSPy spells it ("ChatAdapter", ...).
inline std::string_view adapter_name(const Adapter& a) {
  return std::visit([](const auto& k) { return std::remove_cvref_t<decltype(k)>::name; }, a);
}

/// The system message for a signature with the given instructions.
template <Signature Sig>
std::string format_system_message(const Adapter& adapter, std::string_view instructions) {
  return detail::AdapterImpl<Sig>::system_message(adapter, instructions);
}

/// All messages for one call: system, demos, then the input.
template <Signature Sig>
std::vector<Message> format_messages(const Adapter& adapter, std::string_view instructions,
                                     std::span<const Demo<Sig>> demos, const typename Sig::Input& input) {
  return detail::AdapterImpl<Sig>::format(adapter, format_system_message<Sig>(adapter, instructions), demos, input);
}

/// Reads a completion into the signature's Output, or a parse error as DSPy words it.
template <Signature Sig>
Result<typename Sig::Output> parse_completion(const Adapter& adapter, std::string_view completion,
                                              std::vector<ParseNote>* notes = nullptr) {
  return std::visit([&](const auto& kind) { return detail::AdapterImpl<Sig>::parse(kind, completion, notes); },
                    adapter);
}

}  // namespace dspy
