// The typed error for an exception that escaped an awaited operation.
#pragma once

#include <exception>
#include <string>

#include <boost/asio/error.hpp>
#include <boost/system/system_error.hpp>

#include "../primitives/error.hpp"
#include "config.hpp"

namespace dspy {

namespace asio = boost::asio;

/// The typed error for an exception that escaped an LM call: an aborted operation is a
/// cancellation, anything else a failure of the call.
DSPY_DECL Error error_from_exception(const std::exception_ptr& e);

}  // namespace dspy

// The bodies; with the compiled part, only <dspy/src.hpp> includes them.
#if !defined(DSPY_SEPARATE_COMPILATION)
#include "exception_impl.hpp"
#endif
