// dspy-bench: reads the reports dspy::benchmark saves (BenchmarkReport::save_json, save_report).
//
//   dspy-bench show REPORT.json [--html FILE] [--csv FILE] [--rows-csv FILE]
//   dspy-bench compare BASELINE.json CANDIDATE.json [--baseline LABEL] [--candidate LABEL]
//                      [--alpha A] [--html FILE] [--json FILE]
//   dspy-bench merge SHARD.json... --out MERGED.json [--html FILE]
//
// Exit status: 0 when done; 1 when `compare` finds the candidate significantly worse (McNemar's
// test at --alpha, default 0.05), so that a CI job fails on a regression; 2 on bad usage or input.
#include <cstdlib>
#include <iostream>
#include <map>
#include <string>
#include <vector>

#include <dspy/benchmark.hpp>

namespace {

constexpr int kUsage = 2;

[[noreturn]] void usage(const std::string& problem) {
  if (!problem.empty()) std::cerr << "dspy-bench: " << problem << "\n";
  std::cerr << "usage: dspy-bench show REPORT.json [--html FILE] [--csv FILE] [--rows-csv FILE]\n"
               "       dspy-bench compare BASELINE.json CANDIDATE.json [--baseline LABEL] [--candidate LABEL]\n"
               "                          [--alpha A] [--html FILE] [--json FILE]\n"
               "       dspy-bench merge SHARD.json... --out MERGED.json [--html FILE]\n"
               "compare exits 1 when the candidate is significantly worse (McNemar's test at alpha, default 0.05).\n"
               "A report with several models: compare takes the first unless --baseline/--candidate name one.\n";
  std::exit(kUsage);
}

[[noreturn]] void fail(const dspy::Error& e) {
  std::cerr << "dspy-bench: " << e.message() << "\n";
  std::exit(kUsage);
}

// Positional arguments, and --options with a value each (only those in `allowed`).
struct Args {
  std::vector<std::string> files;
  std::map<std::string, std::string> options;
};

Args parse(int argc, char** argv, std::initializer_list<std::string_view> allowed) {
  Args a;
  for (int i = 2; i < argc; ++i) {
    const std::string arg = argv[i];
    if (!arg.starts_with("--")) {
      a.files.push_back(arg);
      continue;
    }
    if (std::find(allowed.begin(), allowed.end(), arg) == allowed.end()) usage("unknown option " + arg);
    if (i + 1 >= argc) usage(arg + " needs a value");
    a.options[arg] = argv[++i];
  }
  return a;
}

dspy::BenchmarkReport load(const std::string& path) {
  auto r = dspy::BenchmarkReport::load_json(path);
  if (!r) fail(r.error());
  return std::move(*r);
}

void write(const Args& a, const std::string& option, const std::string& text) {
  const auto it = a.options.find(option);
  if (it == a.options.end()) return;
  if (auto saved = dspy::detail::write_file_atomic(it->second, text); !saved) fail(saved.error());
  std::cerr << "wrote " << it->second << "\n";
}

const dspy::ModelRun& pick(const dspy::BenchmarkReport& r, const Args& a, const std::string& option, const std::string& file) {
  if (r.models.empty()) usage(file + " holds no model runs");
  const auto it = a.options.find(option);
  if (it == a.options.end()) return r.models.front();
  if (const auto* m = r.find(it->second)) return *m;
  std::string labels;
  for (const auto& m : r.models) labels += (labels.empty() ? "" : ", ") + m.label;
  usage(file + " has no model `" + it->second + "` (it has: " + labels + ")");
}

int show(int argc, char** argv) {
  const Args a = parse(argc, argv, {"--html", "--csv", "--rows-csv"});
  if (a.files.size() != 1) usage("show takes one report");
  const auto report = load(a.files[0]);
  const auto comparisons = dspy::compare_models(report);
  std::cout << dspy::to_table(report);
  for (const auto& c : comparisons) std::cout << "\n" << dspy::to_table(c);
  write(a, "--html", dspy::to_html(report, comparisons));
  write(a, "--csv", dspy::summary_csv(report));
  write(a, "--rows-csv", dspy::rows_csv(report));
  return 0;
}

int compare(int argc, char** argv) {
  const Args a = parse(argc, argv, {"--baseline", "--candidate", "--alpha", "--html", "--json"});
  if (a.files.size() != 2) usage("compare takes two reports: BASELINE.json CANDIDATE.json");
  const auto baseline = load(a.files[0]), candidate = load(a.files[1]);
  dspy::CompareOptions options;
  if (const auto it = a.options.find("--alpha"); it != a.options.end()) {
    double alpha = 0;
    if (!dspy::detail::parse_whole_number(std::string_view(it->second), alpha) || !(alpha > 0 && alpha < 1))
      usage("--alpha needs a number between 0 and 1, got " + it->second);
    options.alpha = alpha;
  }
  dspy::ModelRun base = pick(baseline, a, "--baseline", a.files[0]), cand = pick(candidate, a, "--candidate", a.files[1]);
  // Two runs of one model (say, two versions of a program): named by their reports instead.
  if (base.label == cand.label) {
    const bool named = baseline.name != candidate.name;
    base.label = named ? baseline.name : "baseline " + base.label;
    cand.label = named ? candidate.name : "candidate " + cand.label;
  }
  const auto c = dspy::compare(base, cand, options);
  if (c.paired == 0) usage("the reports have no examples in common (are they of the same dataset?)");
  std::cout << dspy::to_table(c);
  write(a, "--html", dspy::to_html(c));
  write(a, "--json", dspy::detail::py_json(c.to_json(), false, 1) + "\n");
  return c.regression() ? 1 : 0;
}

int merge(int argc, char** argv) {
  const Args a = parse(argc, argv, {"--out", "--html"});
  if (a.files.empty()) usage("merge takes the shard reports");
  if (!a.options.contains("--out")) usage("merge needs --out MERGED.json");
  std::vector<dspy::BenchmarkReport> shards;
  for (const auto& f : a.files) shards.push_back(load(f));
  auto merged = dspy::merge(std::move(shards));
  if (!merged) fail(merged.error());
  if (auto saved = merged->save_json(a.options.at("--out")); !saved) fail(saved.error());
  std::cerr << "wrote " << a.options.at("--out") << " (" << a.files.size() << " shards)\n";
  write(a, "--html", dspy::to_html(*merged, dspy::compare_models(*merged)));
  std::cout << dspy::to_table(*merged);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) usage("");
  const std::string command = argv[1];
  if (command == "show") return show(argc, argv);
  if (command == "compare") return compare(argc, argv);
  if (command == "merge") return merge(argc, argv);
  if (command == "--help" || command == "-h") usage("");
  usage("unknown command " + command);
}
