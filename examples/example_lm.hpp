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

/// The embedder an example retrieves with. Online: DSPY_EMBEDDER names an embedding model in
/// DSPy's form (e.g. DSPY_EMBEDDER=openai/text-embedding-3-small with OPENAI_API_KEY set).
/// Offline (the default): the demo server's /v1/embeddings (a hashing-trick embedding), on
/// `server` when there is one, else on a demo server started here; over real HTTP either way.
struct ExampleEmbedder {
  std::optional<dspy::testing::DemoServer> server;  // when started here; stops with the example
  dspy::Embedder embedder;
};

inline ExampleEmbedder example_embedder(const dspy::testing::DemoServer* server) {
  if (const char* model = std::getenv("DSPY_EMBEDDER"); model && *model) {
    std::cerr << "[embedder: " << model << "]\n";
    return {std::nullopt, dspy::Embedder(model)};
  }
  std::optional<dspy::testing::DemoServer> own;
  if (!server) {
    auto started = dspy::testing::DemoServer::start(DSPY_DEMO_SERVER, {"--simulate"});
    if (!started) {
      std::cerr << "cannot start the demo server: " << started.error().message() << "\n";
      std::exit(1);
    }
    own.emplace(std::move(started).value());
    server = &*own;
  }
  std::cerr << "[embedder: demo server at " << server->api_base() << "; set DSPY_EMBEDDER to use a real model]\n";
  dspy::Embedder embedder("openai/demo-embedding", {.api_base = server->api_base(), .api_key = "none"});
  return {std::move(own), std::move(embedder)};
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
