// The bodies of state.hpp: header-only, state.hpp includes them; with DSPY_SEPARATE_COMPILATION,
// <dspy/src.hpp> compiles them once.
#pragma once

#include <cmath>
#include <optional>
#include <string>

#include <boost/json.hpp>

#include "state.hpp"

namespace dspy::detail {

DSPY_DECL std::optional<std::string> non_finite_path(const boost::json::value& v) {
  return first_path_where(v, "",
                          [](const boost::json::value& x) { return x.is_double() && !std::isfinite(x.get_double()); });
}

}  // namespace dspy::detail
