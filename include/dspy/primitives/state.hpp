// Saving and loading a module's learned state in DSPy's JSON format (program.save / load).
#pragma once

#include <filesystem>
#include <optional>
#include <set>
#include <string>
#include <utility>

#include <boost/json.hpp>

#include "../detail/config.hpp"
#include "../detail/io/file.hpp"
#include "../detail/text/pytext.hpp"
#include "../detail/text/utf8.hpp"
#include "error.hpp"
#include "module.hpp"

namespace dspy {

namespace detail {

/// The path (`qa.demos[0].score`) of the first value in `v`, in document order, for which
/// `bad(value)` holds, if any.
template <class Pred>
std::optional<std::string> first_path_where(const boost::json::value& v, const std::string& path, const Pred& bad) {
  if (bad(v)) return path;
  if (const auto* a = v.if_array()) {
    for (std::size_t i = 0; i < a->size(); ++i)
      if (auto found = first_path_where((*a)[i], path + "[" + std::to_string(i) + "]", bad)) return found;
  } else if (const auto* o = v.if_object()) {
    for (const auto& kv : *o)
      if (auto found = first_path_where(kv.value(), path + (path.empty() ? "" : ".") + std::string(kv.key()), bad))
        return found;
  }
  return std::nullopt;
}

/// The path of the first number in `v` that is not finite, if any: JSON has no infinity or NaN,
/// so `1e999` reads as infinity but would save as a token nothing reads back.
DSPY_DECL std::optional<std::string> non_finite_path(const boost::json::value& v);

}  // namespace detail

inline constexpr std::string_view kLibraryVersion = "0.1.0";

/// `{path: predictor state, ...}` for every predictor, as DSPy's Module.dump_state().
template <class M>
boost::json::object dump_state(const M& module) {
  boost::json::object out;
  for_each_predictor(module, [&](const std::string& path, const PredictorBase& p) { out[path] = p.dump_state(); });
  return out;
}

/// Loads a state written by dump_state, save or DSPy. All or nothing: an unknown path, a missing
/// predictor or a demo that does not convert is an error naming it, and the module is unchanged.
/// A top-level "metadata" entry is ignored; a number out of the double range (`1e999`) or not
/// finite is an error naming where it is.
template <class M>
Result<void> load_state(M& module, const boost::json::value& state) {
  if (!state.is_object()) return Error(Errc::parse_error, "program state: expected a JSON object");
  if (auto where = detail::non_finite_path(state))
    return Error(Errc::parse_error, "program state: '" + *where + "' is a number out of range (not finite)", {},
                 *where);
  const auto& o = state.get_object();
  M copy = module;
  std::set<std::string> seen;
  std::optional<Error> error;
  for_each_predictor(copy, [&](const std::string& path, PredictorBase& p) {
    if (error) return;
    seen.insert(path);
    const auto* entry = o.if_contains(path);
    if (!entry) {
      error = Error(Errc::missing_field, "program state: no entry for predictor '" + path + "'", {}, path);
      return;
    }
    if (auto r = p.load_state(*entry); !r)
      error = Error(r.error().code(), "program state: predictor '" + path + "': " + r.error().message(), {}, path);
  });
  if (error) return std::move(*error);
  for (const auto& kv : o) {
    const std::string key(kv.key());
    if (key != "metadata" && !seen.contains(key)) {
      std::string known;
      for (const auto& s : seen) known += (known.empty() ? "" : ", ") + s;
      return Error(Errc::parse_error, "program state: unknown predictor path '" + key + "' (this program has: " +
                                          known + ")", {}, key);
    }
  }
  module = std::move(copy);
  return {};
}

namespace detail {

/// The state with DSPy's "metadata" entry. DSPy's load compares each of
/// `metadata.dependency_versions` with its own versions of python, dspy and cloudpickle, and
/// fails on any other key: we have none of those to state, so the map is empty, and our version
/// has its own key.
template <class M>
boost::json::value saved_state(const M& module) {
  boost::json::value state = dump_state(module);
  state.get_object()["metadata"] = {{"dependency_versions", boost::json::object{}},
                                    {"dspy_cpp_version", kLibraryVersion}};
  return state;
}

inline std::string state_text(const boost::json::value& state) { return py_json(state, false, 2) + "\n"; }

}  // namespace detail

/// The state as DSPy's save() writes it: JSON indented by 2 with a "metadata" entry, ending in a
/// newline.
template <class M>
std::string save_string(const M& module) {
  return detail::state_text(detail::saved_state(module));
}

template <class M>
Result<void> load_string(M& module, std::string_view text) {
  boost::system::error_code ec;
  const boost::json::value v = boost::json::parse(text, ec);
  if (ec) return Error(Errc::parse_error, "program state is not valid JSON: " + ec.message());
  return load_state(module, v);
}

/// Writes the state to a file atomically (a temporary file in the same directory, then rename),
/// owner-only when the file is new. A string that is not valid UTF-8 (which JSON cannot hold, so
/// that nothing could load the file) is an error naming where it is, and nothing is written.
template <class M>
Result<void> save(const M& module, const std::filesystem::path& path) {
  const boost::json::value state = detail::saved_state(module);
  std::string invalid;
  const auto where = detail::first_path_where(state, "", [&](const boost::json::value& v) {
    if (!v.is_string()) return false;
    const std::size_t at = detail::find_invalid_utf8(v.get_string());
    if (at != std::string_view::npos) invalid = detail::describe_invalid_utf8(v.get_string(), at);
    return at != std::string_view::npos;
  });
  if (where)
    return Error(Errc::io, "cannot save " + path.string() + ": '" + *where + "' holds " + invalid +
                               "; JSON holds only UTF-8 text", {}, *where);
  return detail::write_file_atomic(path, detail::state_text(state));
}

template <class M>
Result<void> load(M& module, const std::filesystem::path& path) {
  auto text = detail::read_text_file(path);
  if (!text) return text.error();
  auto r = load_string(module, *text);
  if (!r) return Error(r.error().code(), path.string() + ": " + r.error().message(), {}, r.error().field());
  return r;
}

}  // namespace dspy

// The bodies; with the compiled part, only <dspy/src.hpp> includes them.
#if !defined(DSPY_SEPARATE_COMPILATION)
#include "state_impl.hpp"
#endif
