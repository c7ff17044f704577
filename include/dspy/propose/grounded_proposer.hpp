// The signatures and helpers of DSPy's instruction proposer (dspy/propose: grounded_proposer.py,
// dataset_summary_generator.py, utils.py), strings as DSPy 3.3.1 has them; MIPROv2 drives them.
#pragma once

#include <array>
#include <cctype>
#include <string>
#include <string_view>
#include <utility>

#include <boost/json/value.hpp>

#include "../detail/text/pytext.hpp"
#include "../signatures/signature.hpp"

namespace dspy {

namespace detail {
inline constexpr std::string_view program_code_desc =
    "Pseudocode for a language model program designed to solve a particular task.";
inline constexpr std::string_view program_example_desc = "An example of the program in use.";
inline constexpr std::string_view program_summary_desc =
    "Summary of the task the program is designed to solve, and how it goes about solving it.";
}  // namespace detail

struct DatasetDescriptor {
  static constexpr std::string_view instructions =
      "Given several examples from a dataset please write observations about trends that hold for most or all of "
      "the samples. Some areas you may consider in your observations: topics, content, syntax, conciseness, etc. It "
      "will be useful to make an educated guess as to the nature of the task this dataset will enable. Don't be "
      "afraid to be creative";
  struct Input {
    std::string examples;
  };
  struct Output {
    std::string observations;
  };
  static constexpr auto docs = dspy::docs({{"examples", "Sample data points from the dataset"},
                                           {"observations", "Somethings that holds true for most or all of the data you observed"}});
};

struct DatasetDescriptorWithPriorObservations {
  static constexpr std::string_view instructions =
      "Given several examples from a dataset please write observations about trends that hold for most or all of "
      "the samples. I will also provide you with a few observations I have already made.  Please add your own "
      "observations or if you feel the observations are comprehensive say 'COMPLETE' Some areas you may consider in "
      "your observations: topics, content, syntax, conciceness, etc. It will be useful to make an educated guess as "
      "to the nature of the task this dataset will enable. Don't be afraid to be creative";
  struct Input {
    std::string examples;
    std::string prior_observations;
  };
  struct Output {
    std::string observations;
  };
  static constexpr auto docs = dspy::docs(
      {{"examples", "Sample data points from the dataset"},
       {"prior_observations", "Some prior observations I made about the data"},
       {"observations",
        "Somethings that holds true for most or all of the data you observed or COMPLETE if you have nothing to add"}});
};

struct ObservationSummarizer {
  static constexpr std::string_view instructions =
      "Given a series of observations I have made about my dataset, please summarize them into a brief 2-3 sentence "
      "summary which highlights only the most important details.";
  struct Input {
    std::string observations;
  };
  struct Output {
    std::string summary;
  };
  static constexpr auto docs = dspy::docs(
      {{"observations", "Observations I have made about my dataset"},
       {"summary", "Two to Three sentence summary of only the most significant highlights of my observations"}});
};

struct DescribeProgram {
  static constexpr std::string_view instructions =
      "Below is some pseudo-code for a pipeline that solves tasks with calls to language models. Please describe "
      "what type of task this program appears to be designed to solve, and how it appears to work.";
  struct Input {
    std::string program_code;
    std::string program_example;
  };
  struct Output {
    std::string program_description;
  };
  static constexpr auto docs = dspy::docs(
      {{"program_code", detail::program_code_desc},
       {"program_example", detail::program_example_desc},
       {"program_description",
        "Describe what task the program is designed to solve, and how it goes about solving this task."}});
};

struct DescribeModule {
  static constexpr std::string_view instructions =
      "Below is some pseudo-code for a pipeline that solves tasks with calls to language models. Please describe the "
      "purpose of one of the specified module in this pipeline.";
  struct Input {
    std::string program_code;
    std::string program_example;
    std::string program_description;
    std::string module;
  };
  struct Output {
    std::string module_description;
  };
  static constexpr auto docs = dspy::docs(
      {{"program_code", detail::program_code_desc},
       {"program_example", detail::program_example_desc},
       {"program_description", detail::program_summary_desc},
       {"module", "The module in the program that we want to describe."},
       {"module_description", "Description of the module's role in the broader program."}});
};

/// The proposal prompt as MIPROv2 sends it (dataset- and program-aware, with a tip, no history).
struct GenerateSingleModuleInstruction {
  static constexpr std::string_view instructions =
      "Use the information below to learn about a task that we are trying to solve using calls to an LM, then "
      "generate a new instruction that will be used to prompt a Language Model to better solve the task.";
  struct Input {
    std::string dataset_description;
    std::string program_code;
    std::string program_description;
    std::string module;
    std::string module_description;
    std::string task_demos;
    std::string basic_instruction;
    std::string tip;
  };
  struct Output {
    std::string proposed_instruction;
  };
  static constexpr auto docs = dspy::docs(
      {{"dataset_description", "A description of the dataset that we are using."},
       {"program_code", "Language model program designed to solve a particular task."},
       {"program_description", detail::program_summary_desc},
       {"module", "The module to create an instruction for."},
       {"module_description", "Description of the module to create an instruction for."},
       {"task_demos", "Example inputs/outputs of our module."},
       {"basic_instruction", "Basic instruction."},
       {"tip", "A suggestion for how to go about generating the new instruction."},
       {"proposed_instruction", "Propose an instruction that will be used to prompt a Language Model to perform this task."}});
};

namespace detail {

// The same prompt when the drawn tip is "none": DSPy then leaves the tip field out.
struct GenerateSingleModuleInstructionNoTip {
  static constexpr std::string_view instructions = GenerateSingleModuleInstruction::instructions;
  struct Input {
    std::string dataset_description;
    std::string program_code;
    std::string program_description;
    std::string module;
    std::string module_description;
    std::string task_demos;
    std::string basic_instruction;
  };
  using Output = GenerateSingleModuleInstruction::Output;
  static constexpr auto docs = [] {
    Docs<GenerateSingleModuleInstruction::docs.items.size() - 1> out{};
    std::size_t n = 0;
    for (const auto& d : GenerateSingleModuleInstruction::docs.items)
      if (d.name != "tip") out.items[n++] = d;
    return out;
  }();
};

// DSPy's prompting tips, in its order (the draw picks one by index).
inline constexpr std::array<std::pair<std::string_view, std::string_view>, 6> mipro_tips{{
    {"none", ""},
    {"creative", "Don't be afraid to be creative when creating the new instruction!"},
    {"simple", "Keep the instruction clear and concise."},
    {"description", "Make sure your instruction is very informative and descriptive."},
    {"high_stakes", "The instruction should include a high stakes scenario in which the LM must solve the task!"},
    {"persona", "Include a persona that is relevant to the task in the instruction (ie. \"You are a ...\")"},
}};

// dspy.propose.utils.strip_prefix: drops a leading label of up to five words and a colon
// ("Proposed Instruction: ..."), then surrounding double quotes.
inline std::string strip_prefix(std::string_view text) {
  const auto word_char = [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '\'' || c == '-' ||
           static_cast<unsigned char>(c) >= 0x80;
  };
  const auto space = [](char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; };
  std::size_t i = 0;
  while (i < text.size() && (text[i] == '*' || space(text[i]))) ++i;
  for (std::size_t words = 0; words < 5; ++words) {
    const std::size_t start = i;
    while (i < text.size() && word_char(text[i])) ++i;
    if (i == start) break;
    if (i < text.size() && text[i] == ':') {
      ++i;
      while (i < text.size() && space(text[i])) ++i;
      text.remove_prefix(i);
      i = 0;
      break;
    }
    if (words == 4 || i == text.size() || !space(text[i])) break;
    while (i < text.size() && space(text[i])) ++i;
  }
  while (!text.empty() && text.front() == '"') text.remove_prefix(1);
  while (!text.empty() && text.back() == '"') text.remove_suffix(1);
  return std::string(text);
}


}  // namespace detail

}  // namespace dspy
