// dspy::testing::DemoServer: runs the shipped offline LM server (examples/demo_server.cpp) as a
// child process, so examples and users' own CI talk to a real HTTP server on loopback.
// POSIX only: the server is spawned and stopped with posix_spawn and SIGTERM.
#pragma once

#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "../clients/lm.hpp"
#include "../primitives/error.hpp"

extern char** environ;

namespace dspy::testing {

class DemoServer {
 public:
  /// Starts `program args... 0` (port 0: the system picks one) and waits up to `wait` for the
  /// port it prints on its first line. The server lives as long as the returned object.
  static Result<DemoServer> start(const std::string& program, std::vector<std::string> args,
                                  std::chrono::milliseconds wait = std::chrono::seconds(30)) {
    args.insert(args.begin(), program);
    args.emplace_back("0");
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);

    int out[2];
    if (::pipe(out) != 0) return Error(Errc::config, "demo server: pipe: " + std::string(std::strerror(errno)));
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, out[1], STDOUT_FILENO);
    posix_spawn_file_actions_addclose(&actions, out[0]);
    DemoServer server;
    const int rc = ::posix_spawn(&server.pid_, program.c_str(), &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    ::close(out[1]);
    if (rc != 0) {
      ::close(out[0]);
      server.pid_ = -1;
      return Error(Errc::config, "demo server: cannot run " + program + ": " + std::strerror(rc));
    }
    server.stdout_ = out[0];

    // The port line; the child's own diagnostics go to the inherited stderr.
    std::string line;
    const auto deadline = std::chrono::steady_clock::now() + wait;
    while (line.find('\n') == std::string::npos) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      pollfd p{server.stdout_, POLLIN, 0};
      if (left.count() <= 0 || ::poll(&p, 1, static_cast<int>(left.count())) == 0)
        return Error(Errc::timeout, "demo server: " + program + " printed no port within " +
                                        std::to_string(wait.count()) + " ms");
      char buf[64];
      const auto n = ::read(server.stdout_, buf, sizeof buf);
      if (n <= 0) return Error(Errc::network, "demo server: " + program + " exited before printing its port");
      line.append(buf, static_cast<std::size_t>(n));
    }
    const auto [end, ec] = std::from_chars(line.data(), line.data() + line.find('\n'), server.port_);
    if (ec != std::errc{} || server.port_ == 0)
      return Error(Errc::bad_response, "demo server: expected a port on the first line, got: " + line.substr(0, line.find('\n')));
    return server;
  }

  DemoServer(DemoServer&& other) noexcept
      : pid_(std::exchange(other.pid_, -1)), stdout_(std::exchange(other.stdout_, -1)), port_(other.port_) {}
  DemoServer& operator=(DemoServer other) noexcept {
    std::swap(pid_, other.pid_);
    std::swap(stdout_, other.stdout_);
    std::swap(port_, other.port_);
    return *this;
  }
  ~DemoServer() { stop(); }

  [[nodiscard]] unsigned short port() const noexcept { return port_; }
  /// The OpenAI-compatible base URL, e.g. "http://127.0.0.1:40123/v1".
  [[nodiscard]] std::string api_base() const { return "http://127.0.0.1:" + std::to_string(port_) + "/v1"; }
  /// An LM talking to this server; `model` chooses the wire format ("anthropic/..." for Messages).
  [[nodiscard]] LM lm(std::string model = "openai/demo", LMConfig config = {}) const {
    config.api_base = api_base();
    if (!config.api_key) config.api_key = "none";
    return LM(std::move(model), std::move(config));
  }

  /// Terminates the server and waits for it; true when it exited cleanly on the signal.
  bool stop() noexcept {
    if (stdout_ >= 0) ::close(std::exchange(stdout_, -1));
    if (pid_ <= 0) return false;
    ::kill(pid_, SIGTERM);
    int status = 0;
    while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
    pid_ = -1;
    return WIFEXITED(status) && WEXITSTATUS(status) == 0;
  }

 private:
  DemoServer() = default;
  pid_t pid_ = -1;
  int stdout_ = -1;
  unsigned short port_ = 0;
};

}  // namespace dspy::testing
