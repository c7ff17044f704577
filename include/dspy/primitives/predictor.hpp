// PredictorBase: what every predictor offers to code that walks a module without knowing its
// signatures (optimizers, save/load, set_lm).
#pragma once

#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <boost/json.hpp>

#include "error.hpp"
#include "lm_handle.hpp"
#include "message.hpp"

namespace dspy {

struct SignatureMeta;  // signatures/signature.hpp

/// One predictor call of a run, as DSPy's trace records it: the predictor's path, its inputs and
/// its outputs by field name.
struct TraceEntry {
  std::string module_name;
  boost::json::object inputs;
  boost::json::object outputs;
};

/// The calls of one run, in order. A metric gets one while bootstrapping (nullptr otherwise),
/// which lets it be stricter there, as in DSPy.
using Trace = std::vector<TraceEntry>;

/// Collects DSPy's trace: with one in the settings (`co_await dspy::with_context({.trace = log},
/// dspy::acall(program, in))`), the gateway adds an entry for every predictor call under it, named
/// by the predictor's path inside the first module called under it (as named_predictors names it).
class TraceLog {
 public:
  void add(TraceEntry entry) {
    std::lock_guard lock(mutex_);
    entries_.push_back(std::move(entry));
  }
  [[nodiscard]] Trace entries() const {
    std::lock_guard lock(mutex_);
    return entries_;
  }
  /// The path of the traced module's call (the first call the gateway saw under this log).
  [[nodiscard]] std::optional<std::string> root() const {
    std::lock_guard lock(mutex_);
    return root_;
  }
  void claim_root(const std::string& path) {
    std::lock_guard lock(mutex_);
    if (!root_) root_ = path;
  }
  /// The trace's name for the predictor called at `path`: its path inside the traced module.
  [[nodiscard]] std::string name_of(const std::string& path) const {
    const std::optional<std::string> r = root();
    if (!r || path == *r) return "self";
    if (path.size() > r->size() && path.compare(0, r->size(), *r) == 0 && path[r->size()] == '.')
      return path.substr(r->size() + 1);
    return path;
  }

 private:
  mutable std::mutex mutex_;
  Trace entries_;
  std::optional<std::string> root_;
};

class PredictorBase {
 public:
  virtual ~PredictorBase() = default;

  [[nodiscard]] virtual const std::string& instructions() const noexcept = 0;
  virtual void set_instructions(std::string instructions) = 0;
  virtual void set_lm(LMHandle lm) = 0;
  [[nodiscard]] virtual const LMHandle& get_lm() const noexcept = 0;
  [[nodiscard]] virtual const SignatureMeta& signature() const = 0;
  /// The predictor's own LM parameters (a call's config overrides them).
  [[nodiscard]] virtual CallConfig& call_config() noexcept = 0;
  [[nodiscard]] virtual const CallConfig& call_config() const noexcept = 0;
  [[nodiscard]] virtual std::size_t demo_count() const noexcept = 0;
  /// Clears the demos (DSPy's reset: the learned state).
  virtual void reset() = 0;

  /// DSPy's per-predictor state: demos, instructions, field prefixes and descriptions, `lm`.
  [[nodiscard]] virtual boost::json::object dump_state() const = 0;
  /// All or nothing: on error the predictor is unchanged and the message says what was wrong.
  virtual Result<void> load_state(const boost::json::value& state) = 0;

 protected:
  PredictorBase() = default;
  PredictorBase(const PredictorBase&) = default;
  PredictorBase& operator=(const PredictorBase&) = default;
  PredictorBase(PredictorBase&&) = default;
  PredictorBase& operator=(PredictorBase&&) = default;
};

}  // namespace dspy
