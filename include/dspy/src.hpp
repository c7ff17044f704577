// The compiled part of dspy-cpp. With DSPY_SEPARATE_COMPILATION defined for every translation
// unit of a program, the library's heavy non-template code (the HTTP transport) is compiled once,
// in the one .cpp that includes this header, instead of in each file that uses it: as
// Boost.JSON's and Asio's src.hpp. The CMake target dspy::dspy_compiled is that .cpp, with the
// definition set for its users. (Asio's own separate compilation, BOOST_ASIO_SEPARATE_COMPILATION
// with <boost/asio/impl/src.hpp>, is the program's choice: it applies to all its Asio code.)
#pragma once

#if !defined(DSPY_SEPARATE_COMPILATION)
#error "dspy/src.hpp compiles the library's separate part: define DSPY_SEPARATE_COMPILATION for every translation unit (or link dspy::dspy_compiled)"
#endif

#include "all.hpp"
#include "clients/lm_transport.hpp"
#include "detail/http/curl_multi.hpp"

template class dspy::detail::BasicCurlService<boost::asio::any_io_executor>;
template class dspy::BasicLM<boost::asio::any_io_executor>;
