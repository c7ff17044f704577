// Saving and loading a module's learned state in DSPy's JSON format (program.save / load).
#pragma once

#include <cmath>
#include <filesystem>
#include <optional>
#include <set>
#include <string>
#include <utility>

#include <boost/json.hpp>

#include "../detail/io/file.hpp"
#include "../detail/text/pytext.hpp"
#include "error.hpp"
#include "module.hpp"

namespace dspy {

namespace detail {

/// The path (`qa.demos[0].score`) of the first number in `v` that is not finite, if any: JSON has
/// no infinity or NaN, so `1e999` reads as infinity but would save as a token nothing reads back.
inline std::optional<std::string> non_finite_path(const boost::json::value& v, const std::string& path) {
  if (v.is_double()) return std::isfinite(v.get_double()) ? std::nullopt : std::optional(path);
  if (const auto* a = v.if_array()) {
    for (std::size_t i = 0; i < a->size(); ++i)
      if (auto found = non_finite_path((*a)[i], path + "[" + std::to_string(i) + "]")) return found;
  } else if (const auto* o = v.if_object()) {
    for (const auto& kv : *o)
      if (auto found = non_finite_path(kv.value(), path + (path.empty() ? "" : ".") + std::string(kv.key())))
        return found;
  }
  return std::nullopt;
}

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
  if (auto where = detail::non_finite_path(state, ""))
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

/// The state as DSPy's save() writes it: indented JSON with a "metadata" entry.
template <class M>
std::string save_string(const M& module) {
  boost::json::object state = dump_state(module);
  state["metadata"] = {{"dependency_versions", {{"dspy-cpp", kLibraryVersion}}}};
  return detail::py_json(state, false, 2);
}

template <class M>
Result<void> load_string(M& module, std::string_view text) {
  boost::system::error_code ec;
  const boost::json::value v = boost::json::parse(text, ec);
  if (ec) return Error(Errc::parse_error, "program state is not valid JSON: " + ec.message());
  return load_state(module, v);
}

/// Writes the state to a file atomically (a temporary file in the same directory, then rename).
template <class M>
Result<void> save(const M& module, const std::filesystem::path& path) {
  return detail::write_file_atomic(path, save_string(module));
}

template <class M>
Result<void> load(M& module, const std::filesystem::path& path) {
  auto text = detail::read_file(path);
  if (!text) return text.error();
  auto r = load_string(module, *text);
  if (!r) return Error(r.error().code(), path.string() + ": " + r.error().message(), {}, r.error().field());
  return r;
}

}  // namespace dspy
