// dspy::History, DSPy's dspy.History: the turns of a conversation so far, as an input field. Each
// turn holds values of the signature's fields by name; adapters write each turn as a user message
// (its inputs) and an assistant message (its outputs) between the demos and the current input.
#pragma once

#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include <boost/json.hpp>

#include "../../signatures/signature.hpp"

namespace dspy {

struct History {
  std::vector<boost::json::object> messages{};  ///< one per turn: field name -> value

  static constexpr bool is_history = true;  // adapters expand it; never an output

  /// Adds a turn from a signature's typed input and output.
  template <Signature Sig>
  void add(const typename Sig::Input& input, const typename Sig::Output& output) {
    boost::json::object turn;
    put(turn, input);
    put(turn, output);
    messages.push_back(std::move(turn));
  }

  friend bool operator==(const History&, const History&) = default;

 private:
  template <class S>
  static void put(boost::json::object& turn, const S& s) {
    [&]<std::size_t... I>(std::index_sequence<I...>) {
      ((turn[field_names<S>[I]] = to_json(get_field<I>(s))), ...);
    }(std::make_index_sequence<field_count<S>>{});
  }
};

}  // namespace dspy
