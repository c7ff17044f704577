// The baseline: what any Asio + Boost.JSON + PFR + Describe program includes anyway.
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/describe.hpp>
#include <boost/json.hpp>
#include <boost/pfr.hpp>

int main() {}
