// The typed error for an exception that escaped an awaited operation.
#pragma once

#include <exception>
#include <string>

#include <boost/asio/error.hpp>
#include <boost/system/system_error.hpp>

#include "../primitives/error.hpp"

namespace dspy {

namespace asio = boost::asio;

/// The typed error for an exception that escaped an LM call: an aborted operation is a
/// cancellation, anything else a failure of the call.
inline Error error_from_exception(const std::exception_ptr& e) {
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
