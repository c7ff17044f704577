// The test binary builds Asio separately (BOOST_ASIO_SEPARATE_COMPILATION, from
// dspy::dspy_compiled): Asio's SSL part, used by the HTTPS test server, is compiled here once.
#include <boost/asio/ssl/impl/src.hpp>
