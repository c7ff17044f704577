// The LM an example talks to. Online: DSPY_LM names a model in DSPy's form (e.g.
// DSPY_LM=openai/gpt-4o-mini with OPENAI_API_KEY set, or anthropic/claude-sonnet-4-5 with
// ANTHROPIC_API_KEY). Offline (the default): the shipped demo server, started here as a child
// process with the example's scripted replies, examples/data/<name>.replies.jsonl; the calls go
// over real HTTP either way.
#pragma once

#include <cstdlib>
#include <iostream>
#include <memory>
#include <optional>
#include <string>

#include <dspy/testing/demo_server.hpp>
#include <dspy/all.hpp>

struct ExampleLM {
  std::optional<dspy::testing::DemoServer> server;  // stops with the example
  std::shared_ptr<dspy::LM> lm;
  [[nodiscard]] bool offline() const { return server.has_value(); }
};

inline ExampleLM example_lm(const std::string& name) {
  ExampleLM out;
  if (const char* model = std::getenv("DSPY_LM"); model && *model) {
    out.lm = std::make_shared<dspy::LM>(model);
    std::cerr << "[LM: " << model << "]\n";
    return out;
  }
  auto server = dspy::testing::DemoServer::start(DSPY_DEMO_SERVER, {DSPY_EXAMPLES_DATA "/" + name + ".replies.jsonl"});
  if (!server) {
    std::cerr << "cannot start the demo server: " << server.error().message() << "\n";
    std::exit(1);
  }
  out.lm = std::make_shared<dspy::LM>(server->lm());
  std::cerr << "[LM: demo server at " << server->api_base() << "; set DSPY_LM to use a real model]\n";
  out.server.emplace(std::move(server).value());
  return out;
}

/// The shipped demo server as a simulated model (`demo_server --simulate`: it reads each prompt
/// and solves the shipped datasets), on loopback; each reply waits `latency_ms`.
inline dspy::testing::DemoServer start_simulated_server(const std::string& program, int latency_ms) {
  auto server = dspy::testing::DemoServer::start(DSPY_DEMO_SERVER, {"--simulate", "--latency-ms", std::to_string(latency_ms)});
  if (!server) {
    std::cerr << program << ": " << server.error().message() << "\n";
    std::exit(1);
  }
  return std::move(server).value();
}
