// C++ equivalents of the signatures and types the DSPy 3.3.1 golden vectors were made with.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include <boost/describe/enum.hpp>
#include <dspy/all.hpp>

namespace golden {

enum class Sentiment { positive, negative, neutral };
BOOST_DESCRIBE_ENUM(Sentiment, positive, negative, neutral)

enum class Priority { low, medium, high, urgent };
BOOST_DESCRIBE_ENUM(Priority, low, medium, high, urgent)

struct Person {
  std::string name;
  int age;
};

struct Address {
  std::string street;
  std::string city;
  std::string postal_code;
};

struct Customer {
  std::string full_name;
  std::optional<std::string> email;
  std::vector<Address> addresses;
  bool vip;
};

struct Ticket {
  std::string title;
  Priority priority;
  dspy::Literal<"open", "closed"> status;
  std::vector<std::string> tags;
  std::optional<Person> assignee;
  double estimate_hours;
  bool done;
};

struct Order {
  int order_id;
  Address ship_to;
  std::optional<Address> bill_to;
  std::map<std::string, int> items;
};

struct QA {
  static constexpr std::string_view instructions = "Answer questions with short factoid answers.";
  struct Input {
    std::string question;
  };
  struct Output {
    std::string answer;
  };
  static constexpr auto docs = dspy::docs({{"answer", "often between 1 and 5 words"}});
};

struct QAWithReasoning {
  static constexpr std::string_view instructions = "Answer questions with short factoid answers.";
  struct Input {
    std::string question;
  };
  struct Output {
    std::string reasoning;
    std::string answer;
  };
  static constexpr auto docs = dspy::docs({{"answer", "often between 1 and 5 words"}});
};

struct ContextQA {
  static constexpr std::string_view instructions = "Answer the question using only the given context.";
  struct Input {
    std::vector<std::string> context;
    std::string question;
  };
  struct Output {
    std::string reasoning;
    std::string answer;
  };
  static constexpr auto docs = dspy::docs({{"context", "may contain relevant facts"}, {"answer", "a short answer"}});
};

struct DefaultInstructions {
  struct Input {
    std::string question;
  };
  struct Output {
    std::string answer;
  };
};

struct TextMetrics {
  static constexpr std::string_view instructions = "Analyze the text and report measurements.";
  struct Input {
    std::string text;
  };
  struct Output {
    int word_count;
    double score;
    bool is_question;
    std::vector<std::string> keywords;
  };
  static constexpr auto docs = dspy::docs({{"score", "between 0 and 1"}});
};

struct WordCounts {
  static constexpr std::string_view instructions = "Count how often each word occurs.";
  struct Input {
    std::string text;
  };
  struct Output {
    std::map<std::string, int> counts;
  };
};

struct EnumSentiment {
  static constexpr std::string_view instructions = "Classify the sentiment of a sentence.";
  struct Input {
    std::string sentence;
  };
  struct Output {
    Sentiment sentiment;
  };
};

struct LiteralSentiment {
  static constexpr std::string_view instructions = "Classify the sentiment of a sentence.";
  struct Input {
    std::string sentence;
  };
  struct Output {
    dspy::Literal<"positive", "negative", "neutral"> sentiment;
    double confidence;
  };
};

struct ExtractPerson {
  static constexpr std::string_view instructions = "Extract the person mentioned in the text.";
  struct Input {
    std::string text;
  };
  struct Output {
    Person person;
  };
};

struct Translate {
  static constexpr std::string_view instructions = "Translate the text into French.";
  struct Input {
    std::string text;
  };
  struct Output {
    std::string translation;
  };
};

// ---- rich types (History, media, Reasoning, Code) --------------------------------------------

struct Caption {
  static constexpr std::string_view instructions = "Describe the image in one sentence.";
  struct Input {
    dspy::Image image;
  };
  struct Output {
    std::string caption;
  };
};

struct ImageQA {
  static constexpr std::string_view instructions = "Answer the question about the image.";
  struct Input {
    dspy::Image image;
    std::string question;
  };
  struct Output {
    std::string answer;
  };
};

struct CompareImages {
  static constexpr std::string_view instructions = "Answer the question by comparing the images.";
  struct Input {
    std::vector<dspy::Image> images;
    std::string question;
  };
  struct Output {
    std::string answer;
  };
};

struct Transcribe {
  static constexpr std::string_view instructions = "Transcribe the audio clip.";
  struct Input {
    dspy::Audio audio;
  };
  struct Output {
    std::string transcript;
  };
};

struct SummarizeFile {
  static constexpr std::string_view instructions = "Summarize the attached file in one sentence.";
  struct Input {
    dspy::File document;
  };
  struct Output {
    std::string summary;
  };
};

struct ChatQA {
  static constexpr std::string_view instructions = "Answer questions with short factoid answers.";
  struct Input {
    std::string question;
    dspy::History history;
  };
  struct Output {
    std::string answer;
  };
};

struct ReasonedAnswer {
  static constexpr std::string_view instructions = "Answer the question.";
  struct Input {
    std::string question;
  };
  struct Output {
    dspy::Reasoning reasoning;
    std::string answer;
  };
};

struct CiteDocuments {
  static constexpr std::string_view instructions = "Answer questions using provided documents with citations.";
  struct Input {
    std::vector<dspy::Document> documents;
    std::string question;
  };
  struct Output {
    std::string answer;
    dspy::Citations citations;
  };
};

struct WriteCode {
  static constexpr std::string_view instructions = "Write a Python function that solves the task.";
  struct Input {
    std::string task;
  };
  struct Output {
    dspy::Code<"python"> code;
  };
};

}  // namespace golden
