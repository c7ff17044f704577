// The bodies of exception.hpp: header-only, exception.hpp includes them; with
// DSPY_SEPARATE_COMPILATION, <dspy/src.hpp> compiles them once.
#pragma once

#include <exception>
#include <string>

#include <boost/asio/error.hpp>
#include <boost/system/system_error.hpp>

#include "../primitives/error.hpp"
#include "exception.hpp"

namespace dspy {

DSPY_DECL Error error_from_exception(const std::exception_ptr& e) {
  try {
    std::rethrow_exception(e);
  } catch (const boost::system::system_error& ex) {
    if (ex.code() == asio::error::operation_aborted) return Error(Errc::cancelled, "the LM call was cancelled");
    return Error(Errc::network, std::string("LM call failed: ") + ex.what());
  } catch (const std::exception& ex) {
    return Error(Errc::network, std::string("LM call threw: ") + ex.what());
  } catch (...) {
    return Error(Errc::network, "LM call threw a non-standard exception");
  }
}

}  // namespace dspy
