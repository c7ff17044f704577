// The search pieces of GEPA (gepa's engine, which DSPy's GEPA runs): the per-example Pareto
// front and parent choice, epoch-shuffled minibatches, the merge of two descendants of a common
// ancestor, and the reflection prompt with the reading of its reply. Plain data in, plain data
// out, so each piece is tested on hand-made inputs.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/json.hpp>

#include "../random.hpp"
#include "../text/pytext.hpp"
#include "../text/tolerant.hpp"

namespace dspy::detail {

/// For each validation example, the candidates reaching the best score on it (ascending).
using ParetoFronts = std::vector<std::vector<std::size_t>>;

/// `scores[c][e]`: candidate c's score on validation example e.
inline ParetoFronts pareto_fronts(const std::vector<std::vector<double>>& scores) {
  const std::size_t examples = scores.empty() ? 0 : scores.front().size();
  ParetoFronts fronts(examples);
  for (std::size_t e = 0; e < examples; ++e) {
    double best = scores.front()[e];
    for (const auto& s : scores) best = std::max(best, s[e]);
    for (std::size_t c = 0; c < scores.size(); ++c)
      if (scores[c][e] == best) fronts[e].push_back(c);
  }
  return fronts;
}

/// gepa's remove_dominated_programs: lowest aggregate first (then lowest index), one at a time,
/// a candidate is dropped when every front it is on also holds another surviving candidate.
inline ParetoFronts remove_dominated(ParetoFronts fronts, const std::vector<double>& aggregate) {
  std::vector<std::size_t> order;
  for (const auto& front : fronts)
    for (const std::size_t c : front)
      if (std::find(order.begin(), order.end(), c) == order.end()) order.push_back(c);
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    return aggregate[a] < aggregate[b] || (aggregate[a] == aggregate[b] && a < b);
  });
  std::vector<bool> dropped(aggregate.size(), false);
  const auto dominated = [&](std::size_t y) {
    for (const auto& front : fronts) {
      if (std::find(front.begin(), front.end(), y) == front.end()) continue;
      if (std::none_of(front.begin(), front.end(), [&](std::size_t o) { return o != y && !dropped[o]; })) return false;
    }
    return true;
  };
  for (bool removed = true; removed;) {
    removed = false;
    for (const std::size_t y : order)
      if (!dropped[y] && dominated(y)) {
        dropped[y] = removed = true;
        break;
      }
  }
  for (auto& front : fronts) std::erase_if(front, [&](std::size_t c) { return dropped[c]; });
  return fronts;
}

/// The candidates left on some front once the dominated ones are removed (ascending).
inline std::vector<std::size_t> pareto_dominators(const std::vector<std::vector<double>>& scores,
                                                  const std::vector<double>& aggregate) {
  std::vector<std::size_t> out;
  for (const auto& front : remove_dominated(pareto_fronts(scores), aggregate)) out.insert(out.end(), front.begin(), front.end());
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

/// gepa's Pareto parent choice: a candidate left on the fronts, drawn with weight the number of
/// validation examples it is best on.
inline std::size_t select_pareto_parent(const std::vector<std::vector<double>>& scores,
                                        const std::vector<double>& aggregate, std::mt19937_64& rng) {
  std::vector<std::size_t> weight(aggregate.size(), 0);
  std::size_t total = 0;
  for (const auto& front : remove_dominated(pareto_fronts(scores), aggregate))
    for (const std::size_t c : front) ++weight[c], ++total;
  if (total == 0) return 0;
  std::uint64_t pick = uniform_below(rng, total);
  for (std::size_t c = 0; c < weight.size(); ++c) {
    if (pick < weight[c]) return c;
    pick -= weight[c];
  }
  return 0;
}

/// gepa's EpochShuffledBatchSampler: the trainset is shuffled each epoch and padded to a whole
/// number of minibatches with its least used examples; iteration i takes the i-th slice.
class EpochSampler {
 public:
  explicit EpochSampler(std::size_t minibatch_size) : size_(minibatch_size) {}

  std::vector<std::size_t> next(std::size_t iteration, std::size_t train_size, std::mt19937_64& rng) {
    const std::size_t base = iteration * size_;
    const std::size_t epoch = order_.empty() ? 0 : base / order_.size();
    if (order_.empty() || epoch > epoch_) {
      epoch_ = epoch;
      order_.resize(train_size);
      for (std::size_t i = 0; i < train_size; ++i) order_[i] = i;
      for (std::size_t i = train_size; i > 1; --i) std::swap(order_[i - 1], order_[uniform_below(rng, i)]);
      // gepa pads with the least used ids, the last shuffled first on ties.
      for (std::size_t k = 0; order_.size() % size_ != 0; ++k) order_.push_back(order_[train_size - 1 - k % train_size]);
    }
    const std::size_t start = base % order_.size();
    return {order_.begin() + static_cast<std::ptrdiff_t>(start), order_.begin() + static_cast<std::ptrdiff_t>(start + size_)};
  }

 private:
  std::size_t size_;
  std::size_t epoch_ = 0;
  std::vector<std::size_t> order_{};
};

/// What merges were tried: (first, second, ancestor) triplets and (first, second, sources)
/// descriptions, so that none is tried twice.
struct MergeHistory {
  std::vector<std::array<std::size_t, 3>> triplets{};
  std::vector<std::pair<std::array<std::size_t, 2>, std::vector<std::size_t>>> descriptions{};
};

struct MergePlan {
  std::vector<std::string> instructions;  ///< per predictor
  std::size_t first = 0, second = 0, ancestor = 0;
};

namespace gepa_merge {

inline void ancestors_of(std::size_t node, const std::vector<std::vector<std::size_t>>& parents, std::vector<bool>& seen) {
  for (const std::size_t p : parents[node])
    if (!seen[p]) {
      seen[p] = true;
      ancestors_of(p, parents, seen);
    }
}

// A predictor where one descendant kept the ancestor's instruction and the other changed it.
inline bool has_desirable_predictor(const std::vector<std::vector<std::string>>& programs, std::size_t ancestor,
                                    std::size_t a, std::size_t b) {
  for (std::size_t p = 0; p < programs[ancestor].size(); ++p) {
    const std::string& anc = programs[ancestor][p];
    if ((anc == programs[a][p] || anc == programs[b][p]) && programs[a][p] != programs[b][p]) return true;
  }
  return false;
}

// gepa's find_common_ancestor_pair: two merge candidates, neither an ancestor of the other, and a
// common ancestor no better than either (drawn with weight its aggregate score).
inline std::optional<std::array<std::size_t, 3>> common_ancestor_pair(
    const std::vector<std::vector<std::string>>& programs, const std::vector<std::vector<std::size_t>>& parents,
    const std::vector<double>& aggregate, const std::vector<std::size_t>& candidates, const MergeHistory& history,
    std::mt19937_64& rng) {
  for (int attempt = 0; attempt < 10; ++attempt) {
    if (candidates.size() < 2) return std::nullopt;
    const std::size_t x = uniform_below(rng, candidates.size());
    std::size_t y = uniform_below(rng, candidates.size() - 1);
    if (y >= x) ++y;
    const std::size_t i = std::min(candidates[x], candidates[y]), j = std::max(candidates[x], candidates[y]);
    std::vector<bool> of_i(programs.size(), false), of_j(programs.size(), false);
    ancestors_of(i, parents, of_i);
    ancestors_of(j, parents, of_j);
    if (of_i[j] || of_j[i]) continue;
    std::vector<std::size_t> common;
    double total = 0;
    for (std::size_t a = 0; a < programs.size(); ++a) {
      if (!of_i[a] || !of_j[a]) continue;
      if (std::find(history.triplets.begin(), history.triplets.end(), std::array{i, j, a}) != history.triplets.end()) continue;
      if (aggregate[a] > aggregate[i] || aggregate[a] > aggregate[j]) continue;
      if (!has_desirable_predictor(programs, a, i, j)) continue;
      common.push_back(a);
      total += aggregate[a];
    }
    if (common.empty()) continue;
    std::size_t chosen = common[uniform_below(rng, common.size())];
    if (total > 0) {  // weighted by aggregate score, as gepa's rng.choices
      double pick = std::uniform_real_distribution<double>(0.0, total)(rng);
      for (const std::size_t a : common)
        if ((pick -= aggregate[a]) < 0 || a == common.back()) {
          chosen = a;
          break;
        }
    }
    return std::array{i, j, chosen};
  }
  return std::nullopt;
}

}  // namespace gepa_merge

/// gepa's sample_and_attempt_merge_programs_by_common_predictors: per predictor, the merged
/// program takes the instruction that changed from the common ancestor (when both changed it,
/// the one of the better descendant); a plan tried before is not tried again. Records the plan
/// in `history`.
inline std::optional<MergePlan> plan_merge(const std::vector<std::vector<std::string>>& programs,
                                           const std::vector<std::vector<std::size_t>>& parents,
                                           const std::vector<double>& aggregate,
                                           const std::vector<std::size_t>& candidates, MergeHistory& history,
                                           std::mt19937_64& rng) {
  if (candidates.size() < 2 || programs.size() < 3) return std::nullopt;
  for (int attempt = 0; attempt < 10; ++attempt) {
    const auto pair = gepa_merge::common_ancestor_pair(programs, parents, aggregate, candidates, history, rng);
    if (!pair) continue;
    const auto [i, j, ancestor] = *pair;
    MergePlan plan{programs[ancestor], i, j, ancestor};
    std::vector<std::size_t> sources;
    for (std::size_t p = 0; p < plan.instructions.size(); ++p) {
      const std::string &anc = programs[ancestor][p], &a = programs[i][p], &b = programs[j][p];
      std::size_t from = i;
      if ((anc == a || anc == b) && a != b) from = anc == a ? j : i;
      else if (anc != a && anc != b) from = aggregate[i] > aggregate[j] ? i : aggregate[j] > aggregate[i] ? j : uniform_below(rng, 2) ? j : i;
      plan.instructions[p] = programs[from][p];
      sources.push_back(from);
    }
    const std::pair<std::array<std::size_t, 2>, std::vector<std::size_t>> description{{i, j}, sources};
    if (std::find(history.descriptions.begin(), history.descriptions.end(), description) != history.descriptions.end())
      continue;
    history.descriptions.push_back(description);
    return plan;
  }
  return std::nullopt;
}

/// gepa's subsample for a merged program: up to `n` validation examples, a third where the first
/// parent is better, a third where the second is, the rest where they tie, then any.
inline std::vector<std::size_t> merge_subsample(const std::vector<double>& first, const std::vector<double>& second,
                                                std::size_t n, std::mt19937_64& rng) {
  std::array<std::vector<std::size_t>, 3> buckets;
  for (std::size_t e = 0; e < first.size(); ++e) buckets[first[e] > second[e] ? 0 : second[e] > first[e] ? 1 : 2].push_back(e);
  const std::size_t each = std::max<std::size_t>(1, (n + 2) / 3);
  std::vector<std::size_t> out;
  const auto take = [&](std::vector<std::size_t> pool, std::size_t k) {  // k distinct, without replacement
    std::erase_if(pool, [&](std::size_t e) { return std::find(out.begin(), out.end(), e) != out.end(); });
    for (std::size_t t = 0; t < k && !pool.empty(); ++t) {
      const std::size_t at = uniform_below(rng, pool.size());
      out.push_back(pool[at]);
      pool.erase(pool.begin() + static_cast<std::ptrdiff_t>(at));
    }
  };
  for (auto& bucket : buckets)
    if (out.size() < n) take(bucket, std::min(each, n - out.size()));
  std::vector<std::size_t> all(first.size());
  for (std::size_t e = 0; e < all.size(); ++e) all[e] = e;
  take(all, n - std::min(n, out.size()));
  return out;
}

/// One row of a reflective dataset: a predictor's inputs and outputs in one run, and the
/// metric's feedback on the run.
struct ReflectiveExample {
  boost::json::object inputs;
  boost::json::object outputs;
  std::string feedback;
};

/// gepa's InstructionProposalSignature prompt, which DSPy's GEPA sends by default.
inline constexpr std::string_view reflection_template =
    "I provided an assistant with the following instructions to perform a task for me:\n```\n<curr_param>\n```\n\n"
    "The following are examples of different task inputs provided to the assistant along with the assistant's "
    "response for each of them, and some feedback on how the assistant's response could be better:\n```\n"
    "<side_info>\n```\n\n"
    "Your task is to write a new instruction for the assistant.\n\n"
    "Read the inputs carefully and identify the input format and infer detailed task description about the task I "
    "wish to solve with the assistant.\n\n"
    "Read all the assistant responses and the corresponding feedback. Identify all niche and domain specific factual "
    "information about the task and include it in the instruction, as a lot of it may not be available to the "
    "assistant in the future. The assistant may have utilized a generalizable strategy to solve the task, if so, "
    "include that in the instruction as well.\n\n"
    "Provide the new instructions within ``` blocks.";

/// The reflection prompt for an instruction and its examples, rendered as gepa renders them
/// ("# Example 1", "## Inputs", "### question", ...).
inline std::string reflection_prompt(std::string_view instruction, const std::vector<ReflectiveExample>& examples) {
  std::string side;
  const auto fields = [&](const boost::json::object& o) {
    for (const auto& kv : o) side += "### " + std::string(kv.key()) + "\n" + std::string(trim(value_text(kv.value()))) + "\n\n";
    if (o.empty()) side += "\n";
  };
  for (std::size_t i = 0; i < examples.size(); ++i) {
    if (i) side += "\n\n";
    side += "# Example " + std::to_string(i + 1) + "\n## Inputs\n";
    fields(examples[i].inputs);
    side += "## Generated Outputs\n";
    fields(examples[i].outputs);
    side += "## Feedback\n" + std::string(trim(examples[i].feedback)) + "\n\n";
  }
  std::string out(reflection_template);
  out.replace(out.find("<curr_param>"), 12, instruction);
  out.replace(out.find("<side_info>"), 11, side);
  return out;
}

/// gepa's output_extractor: the text between the first and the last ``` (without a language
/// tag), or the reply without an unmatched fence.
inline std::string fenced_instruction(std::string_view reply) {
  const std::size_t open = reply.find("```"), close = reply.rfind("```");
  if (open == std::string_view::npos || open + 3 >= close) {
    std::string_view s = trim(reply);
    if (s.starts_with("```")) {
      s.remove_prefix(3);
      while (!s.empty() && !is_space(s.front())) s.remove_prefix(1);
      if (!s.empty() && s.front() == '\n') s.remove_prefix(1);
    } else if (s.ends_with("```")) {
      s.remove_suffix(3);
    }
    return std::string(trim(s));
  }
  std::string_view content = reply.substr(open + 3, close - open - 3);
  std::size_t tag = 0;
  while (tag < content.size() && !is_space(content[tag])) ++tag;
  if (tag < content.size() && content[tag] == '\n') content.remove_prefix(tag + 1);
  return std::string(trim(content));
}

}  // namespace dspy::detail
