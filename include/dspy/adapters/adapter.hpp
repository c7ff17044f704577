// The adapters (DSPy's dspy.adapters): the interface, ChatAdapter, JSONAdapter, XMLAdapter and
// TwoStepAdapter, and the typed entry points that format and parse for one signature with any adapter.
#pragma once

#include <concepts>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "../primitives/settings.hpp"
#include "base.hpp"
#include "chat_adapter.hpp"
#include "json_adapter.hpp"
#include "signature_view.hpp"
#include "two_step_adapter.hpp"
#include "xml_adapter.hpp"

namespace dspy {

namespace detail {

// An adapter argument as a dspy::Adapter: itself, the one a handle holds (null: the ChatAdapter),
// or, for an options struct such as dspy::ChatAdapter{}, its adapter built in place.
template <class A>
decltype(auto) adapter_ref(const A& adapter) {
  if constexpr (std::derived_from<A, Adapter>) {
    return static_cast<const Adapter&>(adapter);
  } else if constexpr (std::same_as<A, AdapterHandle>) {
    return adapter ? *adapter : *default_adapter();
  } else if constexpr (NamesAdapter<A>) {
    return typename A::adapter_type(adapter);
  } else {
    static_assert(NamesAdapter<A>,
                  "dspy: not an adapter. Pass dspy::ChatAdapter{}, dspy::JSONAdapter{}, dspy::XMLAdapter{}, "
                  "dspy::TwoStepAdapter{extraction_lm}, a class "
                  "derived from dspy::Adapter, or a dspy::AdapterHandle.");
    return *default_adapter();  // one error for the misuse, not another for what follows
  }
}

// The adapter a predictor uses: its own, else the one in the settings, else the ChatAdapter.
inline const AdapterHandle& resolve_adapter(const AdapterHandle& own, const Settings& settings) {
  if (own) return own;
  return settings.adapter ? settings.adapter : default_adapter();
}

}  // namespace detail

/// All messages for one call: system, demos, then the input.
template <Signature Sig, class A>
std::vector<Message> format_messages(const A& adapter, std::string_view instructions, std::span<const Demo<Sig>> demos,
                                     const typename Sig::Input& input) {
  const Adapter& a = detail::adapter_ref(adapter);
  const SignatureView& sig = signature_view<Sig>();
  return a.format(sig, a.prompt_parts(sig, instructions), demos, FieldValues(sig.inputs, &input));
}

/// Reads a completion into the signature's Output, or a parse error as DSPy words it.
template <Signature Sig, class A>
Result<typename Sig::Output> parse_completion(const A& adapter, std::string_view completion,
                                              std::vector<ParseNote>* notes = nullptr) {
  typename Sig::Output out{};
  if (auto error = detail::adapter_ref(adapter).parse(signature_view<Sig>(), completion, &out, notes))
    return std::move(*error);
  return out;
}

}  // namespace dspy
