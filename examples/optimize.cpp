// Optimizing a program: ChainOfThought on the shipped arithmetic word problems, scored on a dev
// set before and after BootstrapFewShotWithRandomSearch (bootstrapped demo sets, the best on a
// validation set) and MIPROv2 (demo sets and proposed instructions searched with TPE); each tuned
// program is saved with the log of every candidate, and the score per candidate or trial is
// plotted as SVG.
//
//   optimize [--train N] [--val N] [--dev N] [--candidates N] [--out DIR]
//
// The LM: DSPY_LM (e.g. openai/gpt-4o-mini with OPENAI_API_KEY) or, by default, the shipped demo
// server as a simulated model on loopback; every call goes over HTTP.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include <dspy/all.hpp>

#include "arithmetic.hpp"
#include "example_lm.hpp"

namespace {

struct Options {
  std::size_t train = 40, val = 60, dev = 200, candidates = 6;
  std::string out = "optimize-out";
};

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i], value = argv[i + 1];
    if (flag == "--out") o.out = value;
    else if (flag == "--train") o.train = std::stoul(value);
    else if (flag == "--val") o.val = std::stoul(value);
    else if (flag == "--dev") o.dev = std::stoul(value);
    else if (flag == "--candidates") o.candidates = std::stoul(value);
    else {
      std::cerr << "usage: optimize [--train N] [--val N] [--dev N] [--candidates N] [--out DIR]\n";
      std::exit(2);
    }
  }
  if (argc % 2 == 0) {
    std::cerr << "optimize: " << argv[argc - 1] << " has no value\n";
    std::exit(2);
  }
  return o;
}

// One scored point of a plot: a candidate or trial, scored on the whole validation set or on a
// minibatch of it, or failed.
struct Point {
  std::string label;
  std::optional<double> score;
  bool full = true;
};

// Score per point (dots: blue full evaluations, grey minibatches, red failures) and the best full
// score so far (a line), on the 0-100 scale.
std::string svg_plot(const std::vector<Point>& points, const std::string& title, const std::string& caption) {
  const int width = 720, height = 320, left = 50, right = 20, top = 40, bottom = 40;
  const int plot_w = width - left - right, plot_h = height - top - bottom;
  const auto x_of = [&](std::size_t i) {
    return left + (points.size() > 1 ? static_cast<double>(i) * plot_w / static_cast<double>(points.size() - 1) : 0.0);
  };
  const auto y_of = [&](double score) { return top + plot_h * (1 - std::clamp(score, 0.0, 100.0) / 100); };
  std::string s = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + std::to_string(width) + "\" height=\"" +
                  std::to_string(height) + "\" font-family=\"sans-serif\" font-size=\"12\">\n" +
                  "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n<text x=\"" + std::to_string(left) +
                  "\" y=\"22\" font-size=\"15\">" + title + "</text>\n";
  for (const int tick : {0, 25, 50, 75, 100}) {
    const double y = y_of(tick);
    s += "<line x1=\"" + std::to_string(left) + "\" x2=\"" + std::to_string(left + plot_w) + "\" y1=\"" + std::to_string(y) +
         "\" y2=\"" + std::to_string(y) + "\" stroke=\"#dddddd\"/><text x=\"" + std::to_string(left - 6) + "\" y=\"" +
         std::to_string(y + 4) + "\" text-anchor=\"end\">" + std::to_string(tick) + "</text>\n";
  }
  std::string best_line;
  double best = -1;
  for (std::size_t i = 0; i < points.size(); ++i) {
    const auto& p = points[i];
    if (p.score && p.full) best = std::max(best, *p.score);
    if (best >= 0) best_line += std::to_string(x_of(i)) + "," + std::to_string(y_of(best)) + " ";
    const char* colour = !p.score ? "#d04a4a" : p.full ? "#4a7bd0" : "#a0a0a0";
    s += "<circle cx=\"" + std::to_string(x_of(i)) + "\" cy=\"" + std::to_string(y_of(p.score.value_or(0))) +
         "\" r=\"4\" fill=\"" + colour + "\"><title>" + p.label + ": " +
         (p.score ? std::to_string(*p.score) : std::string("failed")) + "</title></circle>\n";
  }
  s += "<polyline points=\"" + best_line + "\" fill=\"none\" stroke=\"#3a9a5a\" stroke-width=\"2\"/>\n";
  s += "<text x=\"" + std::to_string(left) + "\" y=\"" + std::to_string(height - 10) + "\">" + caption + "</text>\n";
  return s + "</svg>\n";
}

// A saved program loaded into a fresh one: its dev score, which must be the tuned program's.
std::optional<double> reloaded_score(const std::filesystem::path& saved, const std::shared_ptr<dspy::LM>& lm,
                                     const std::vector<dspy::Example<Arithmetic>>& dev) {
  dspy::ChainOfThought<Arithmetic> loaded;
  if (auto r = dspy::load(loaded, saved); !r) {
    std::cerr << "optimize: " << r.error().message() << "\n";
    return std::nullopt;
  }
  dspy::set_lm(loaded, lm);
  return dspy::evaluate(loaded, dev, dspy::answer_exact_match, {.concurrency = 16, .progress = false}).score;
}

std::string percent(double v) {
  char text[32];
  std::snprintf(text, sizeof text, "%.1f", v);
  return text;
}

}  // namespace

int main(int argc, char** argv) {
  const Options o = parse(argc, argv);
  auto data = dspy::load_jsonl<Arithmetic>(DSPY_EXAMPLES_DATA "/arithmetic.jsonl");
  if (!data) {
    std::cerr << "optimize: " << data.error().message() << "\n";
    return 1;
  }
  if (data->size() < o.train + o.val + o.dev) {
    std::cerr << "optimize: the dataset has " << data->size() << " examples, fewer than --train + --val + --dev\n";
    return 1;
  }
  const std::vector<dspy::Example<Arithmetic>> train(data->begin(), data->begin() + static_cast<long>(o.train));
  const std::vector<dspy::Example<Arithmetic>> val(data->begin() + static_cast<long>(o.train),
                                                   data->begin() + static_cast<long>(o.train + o.val));
  const std::vector<dspy::Example<Arithmetic>> dev(data->begin() + static_cast<long>(o.train + o.val),
                                                   data->begin() + static_cast<long>(o.train + o.val + o.dev));

  std::optional<dspy::testing::DemoServer> server;
  std::shared_ptr<dspy::LM> lm;
  // No cache: each run shows the optimizer's real calls.
  if (const char* model = std::getenv("DSPY_LM"); model && *model) {
    lm = std::make_shared<dspy::LM>(model, dspy::LMConfig{.cache = false});
  } else {
    server.emplace(start_simulated_server("optimize", 0));
    lm = std::make_shared<dspy::LM>("openai/dspy-simulated",
                                    dspy::LMConfig{.api_base = server->api_base(), .api_key = "none", .cache = false});
  }
  std::cerr << "[LM: " << lm->model() << " at " << lm->url() << "]\n";

  dspy::ChainOfThought<Arithmetic> program;
  dspy::set_lm(program, lm);
  const dspy::EvaluateOptions quiet{.concurrency = 16, .progress = false};
  const double before = dspy::evaluate(program, dev, dspy::answer_exact_match, quiet).score;
  std::cout << "ChainOfThought, unoptimized: " << before << "% on " << dev.size() << " dev examples\n";

  std::filesystem::create_directories(o.out);
  const std::filesystem::path out(o.out);

  // 1. BootstrapFewShotWithRandomSearch: bootstrapped demo sets, the best on the validation set.
  const auto result = dspy::BootstrapFewShotWithRandomSearch(
                          dspy::answer_exact_match, {.num_candidate_programs = o.candidates, .concurrency = 16})
                          .compile(program, train, val);
  std::cout << "BootstrapFewShotWithRandomSearch, " << result.candidates.size() << " candidates on " << val.size()
            << " validation examples:\n";
  std::vector<Point> rs_points;
  for (const auto& c : result.candidates) {
    char line[160];
    if (c.score) std::snprintf(line, sizeof line, "  seed %3lld  %6.2f%%\n", static_cast<long long>(c.seed), *c.score);
    else std::snprintf(line, sizeof line, "  seed %3lld  failed: %s\n", static_cast<long long>(c.seed), c.error->c_str());
    std::cout << line;
    rs_points.push_back({"seed " + std::to_string(c.seed), c.score, true});
  }
  const double after = dspy::evaluate(result.program, dev, dspy::answer_exact_match, quiet).score;
  std::cout << "optimized (seed " << result.seed << ", " << result.program.predict.demos.size()
            << " demos): " << after << "% on the dev set (was " << before << "%)\n";

  const auto saved_program = out / "optimized.json";
  if (auto r = dspy::save(result.program, saved_program); !r) {
    std::cerr << "optimize: " << r.error().message() << "\n";
    return 1;
  }
  std::ofstream(out / "optimized.log.json") << boost::json::serialize(result.log_json()) << "\n";
  std::ofstream(out / "optimize.svg") << svg_plot(
      rs_points, "BootstrapFewShotWithRandomSearch: validation score per candidate (dev: " + percent(before) + " before, " +
                     percent(after) + " after)",
      "candidates in the order tried (seed -3 zero-shot, -2 labeled, -1 bootstrapped, then shuffled); line: best so far");
  const auto reloaded = reloaded_score(saved_program, lm, dev);
  if (!reloaded) return 1;
  std::cout << "wrote " << saved_program.string() << " (reloaded: " << *reloaded
            << "%), optimized.log.json, optimize.svg in " << o.out << "\n\n";

  // 2. MIPROv2 (auto=light): demo sets plus instructions proposed by the same model, searched
  // with TPE on minibatches of the validation set; every trial is plotted.
  dspy::MIPROv2Options mo{.seed = 9, .prompt_model = lm, .concurrency = 16};
  mo.progress.stream = nullptr;
  auto mipro = dspy::MIPROv2(dspy::answer_exact_match, mo).compile(program, train, val);
  if (!mipro) {
    std::cerr << "optimize: MIPROv2: " << mipro.error().message() << "\n";
    return 1;
  }
  std::vector<Point> mipro_points;
  for (const auto& c : mipro->candidates) {
    if (c.kind == "proposal" && c.params.contains("instruction"))
      std::cout << "  proposed (" << c.params.at("tip").as_string().c_str() << " tip): " << c.params.at("instruction").as_string().c_str() << "\n";
    if (c.kind != "full" && c.kind != "minibatch") continue;
    mipro_points.push_back({c.kind + " " + boost::json::serialize(c.params), c.score, c.kind == "full"});
    char line[200];
    std::snprintf(line, sizeof line, "  %-9s %6.2f%%  %s\n", c.kind.c_str(), c.score.value_or(0),
                  boost::json::serialize(c.params).c_str());
    std::cout << line;
  }
  const double mipro_after = dspy::evaluate(mipro->program, dev, dspy::answer_exact_match, quiet).score;
  std::cout << "MIPROv2 (" << mipro->program.predict.demos.size() << " demos, instruction: \""
            << mipro->program.predict.instructions() << "\"): " << mipro_after << "% on the dev set (was " << before
            << "%)\n";
  const auto saved_mipro = out / "optimized_mipro.json";
  if (auto r = mipro->save(saved_mipro); !r) {  // the program and optimized_mipro.log.json
    std::cerr << "optimize: " << r.error().message() << "\n";
    return 1;
  }
  std::ofstream(out / "optimize_mipro.svg") << svg_plot(
      mipro_points, "MIPROv2: score per trial (dev: " + percent(before) + " before, " + percent(mipro_after) + " after)",
      "trials in order; blue: full validation set, grey: minibatch of " + std::to_string(mo.minibatch_size) +
          "; line: best full score");
  const auto reloaded_mipro = reloaded_score(saved_mipro, lm, dev);
  if (!reloaded_mipro) return 1;
  std::cout << "wrote " << saved_mipro.string() << " (reloaded: " << *reloaded_mipro
            << "%), optimized_mipro.log.json, optimize_mipro.svg in " << o.out << "\n";

  // Against the deterministic simulated model the run is a check too.
  if (server && !(after > before && *reloaded == after && mipro_after > before && *reloaded_mipro == mipro_after)) {
    std::cerr << "optimize: expected higher dev scores after optimizing, and the same after reloading\n";
    return 1;
  }
  return 0;
}
