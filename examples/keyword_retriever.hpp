// A keyword-overlap retriever for the examples: enough to show the shape of retrieval.
#pragma once

#include <algorithm>
#include <cctype>
#include <set>
#include <string>
#include <utility>
#include <vector>

/// Ranks passages by how many of the query's words (longer than two letters) they contain.
struct KeywordRetriever {
  std::vector<std::string> passages;
  std::size_t k = 3;

  static std::set<std::string> words(const std::string& text) {
    std::set<std::string> out;
    std::string w;
    for (char c : text + " ") {
      if (std::isalnum(static_cast<unsigned char>(c))) w += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      else if (w.size() > 2) out.insert(std::exchange(w, {}));
      else w.clear();
    }
    return out;
  }
  [[nodiscard]] std::vector<std::string> search(const std::string& query) const {
    const auto q = words(query);
    std::vector<std::pair<std::size_t, const std::string*>> scored;
    for (const auto& p : passages) {
      const auto pw = words(p);
      scored.emplace_back(std::count_if(q.begin(), q.end(), [&](const auto& w) { return pw.contains(w); }), &p);
    }
    std::stable_sort(scored.begin(), scored.end(), [](auto& a, auto& b) { return a.first > b.first; });
    std::vector<std::string> top;
    for (std::size_t i = 0; i < std::min(k, scored.size()); ++i) top.push_back(*scored[i].second);
    return top;
  }
};
