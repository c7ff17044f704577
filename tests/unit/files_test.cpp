// Files the library reads and writes, and the text it sends: UTF-8 checked at every boundary
// (datasets, each request's input and demos, saves), one permission policy for everything
// written, and saved programs that DSPy's own load accepts.
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include <dspy/all.hpp>
#include <dspy/testing.hpp>
#include <gtest/gtest.h>

#include "golden_signatures.hpp"

namespace files_test {

namespace fs = std::filesystem;
using dspy::Errc;
using dspy::testing::ScriptedLM;
using golden::QA;

constexpr std::string_view kParis = "[[ ## answer ## ]]\nParis\n\n[[ ## completed ## ]]";

std::string read_all(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// A temporary directory per test, and the usual umask (022) while it runs, so that modes are
// what a default session gets.
class Files : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("dspy_files_" + std::to_string(::getpid()) + "_" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    old_umask_ = ::umask(022);
  }
  void TearDown() override {
    ::umask(old_umask_);
    fs::remove_all(dir_);
  }
  fs::path write(const std::string& name, const std::string& text) const {
    const fs::path p = dir_ / name;
    std::ofstream(p, std::ios::binary) << text;
    return p;
  }
  static unsigned mode_of(const fs::path& p) {
    struct stat st {};
    EXPECT_EQ(::stat(p.c_str(), &st), 0) << p;
    return st.st_mode & 0777;
  }
  fs::path dir_;
  mode_t old_umask_ = 0;
};

dspy::Demo<QA> demo(std::string question, std::string answer) {
  return dspy::Demo<QA>{{std::move(question)}, {std::move(answer)}};
}

// ---- UTF-8 ----

TEST(Utf8, FindsTheFirstIllFormedByte) {
  using dspy::detail::find_invalid_utf8;
  constexpr auto npos = std::string_view::npos;
  EXPECT_EQ(find_invalid_utf8(""), npos);
  EXPECT_EQ(find_invalid_utf8("plain ASCII text, longer than one eight-byte word"), npos);
  EXPECT_EQ(find_invalid_utf8("caf\xc3\xa9 \xe2\x9c\x93 \xf0\x9f\x98\x80 \xf4\x8f\xbf\xbf"), npos);  // é ✓ 😀 U+10FFFF
  const std::vector<std::pair<std::string, std::size_t>> bad = {
      {"\x80", 0},                                // a stray continuation byte
      {"abc\xc3", 3},                             // cut short at the end
      {"abc\xe2\x9c" "d", 3},                     // cut short before ASCII
      {"\xc0\x80", 0},                            // overlong NUL
      {"\xe0\x80\xaf", 0},                        // overlong '/'
      {"\xed\xa0\x80", 0},                        // a surrogate
      {"\xf4\x90\x80\x80", 0},                    // past U+10FFFF
      {"\xff", 0},
      {"12345678\xfe", 8},                        // after a whole ASCII word
      {"1234567\xc3\xa9" "12345678\xe9" "x", 17}, // after a character across a word boundary
  };
  for (const auto& [text, at] : bad) EXPECT_EQ(find_invalid_utf8(text), at) << text;
  EXPECT_EQ(dspy::detail::describe_invalid_utf8("ab\xe9", 2), "invalid UTF-8 at byte 2 (0xe9)");
}

TEST_F(Files, DatasetsThatAreNotUtf8AreErrorsNamingLineAndColumn) {
  const auto csv = write("qa.csv", "question,answer\r\nfine,ok\r\ncaf\xe9,x\r\n");
  auto c = dspy::load_csv<QA>(csv);
  ASSERT_FALSE(c) << "loaded " << c->size() << " examples";
  EXPECT_EQ(c.error().code(), Errc::parse_error);
  EXPECT_EQ(c.error().message(),
            csv.string() + ":3:4: invalid UTF-8 at byte 29 (0xe9); the file must be UTF-8 text");

  const auto jsonl = write("qa.jsonl", "{\"question\": \"fine\"}\n{\"question\": \"caf\xe9\"}\n");
  auto j = dspy::load_jsonl<QA>(jsonl);
  ASSERT_FALSE(j);
  EXPECT_EQ(j.error().code(), Errc::parse_error);
  EXPECT_EQ(j.error().message(),
            jsonl.string() + ":2:18: invalid UTF-8 at byte 38 (0xe9); the file must be UTF-8 text");

  // Evaluation results read back from CSV, the one other text format read without a JSON parser.
  const auto results = write("results.csv", "index,question,score\r\n0,caf\xe9,1\r\n");
  auto r = dspy::EvaluationResult::load_csv(results);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message().find(results.string() + ":2:6: invalid UTF-8"), std::string::npos)
      << r.error().message();
}

TEST_F(Files, InputThatIsNotUtf8IsRefusedBeforeTheRequestNamingTheField) {
  auto lm = std::make_shared<ScriptedLM>(std::vector<std::string>{std::string(kParis)});
  dspy::Predict<QA> qa;
  qa.set_lm(lm);
  auto r = qa({"caf\xe9?"});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), Errc::bad_request);
  EXPECT_EQ(r.error().field(), "question");
  EXPECT_EQ(r.error().message(),
            "input field `question` holds invalid UTF-8 at byte 3 (0xe9) of its text; JSON carries only UTF-8, so "
            "the request was not sent");
  EXPECT_EQ(lm->calls(), 0U);

  // A demo made in code is checked too, and named.
  qa.demos = {demo("fine", "ok"), demo("also fine", "\xc3(")};
  r = qa({"Capital of France?"});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), Errc::bad_request);
  EXPECT_EQ(r.error().field(), "answer");
  EXPECT_NE(r.error().message().find("demos[1] field `answer` holds invalid UTF-8 at byte 0 (0xc3)"),
            std::string::npos)
      << r.error().message();
  EXPECT_EQ(lm->calls(), 0U);

  // Valid text, ASCII or not, goes through.
  qa.demos = {demo("Capitale de l'Italie ?", "Rome ✓")};
  r = qa({"Capitale de la France ? é"});
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->answer, "Paris");
  EXPECT_EQ(lm->calls(), 1U);
}

TEST_F(Files, SavingTextThatIsNotUtf8IsAnErrorNamingWhereAndWritesNothing) {
  dspy::Predict<QA> qa;
  qa.demos = {demo("fine", "ok"), demo("caf\xe9", "x")};
  const fs::path path = dir_ / "qa.json";
  auto r = dspy::save(qa, path);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), Errc::io);
  EXPECT_EQ(r.error().field(), "self.demos[1].question");
  EXPECT_EQ(r.error().message(), "cannot save " + path.string() +
                                     ": 'self.demos[1].question' holds invalid UTF-8 at byte 3 (0xe9); JSON holds "
                                     "only UTF-8 text");
  EXPECT_FALSE(fs::exists(path));

  // What saves, loads.
  qa.demos = {demo("café", "✓")};
  ASSERT_TRUE(dspy::save(qa, path));
  dspy::Predict<QA> back;
  ASSERT_TRUE(dspy::load(back, path));
  ASSERT_EQ(back.demos.size(), 1U);
  EXPECT_EQ(back.demos[0].input.question, "café");
}

// ---- permissions ----

TEST_F(Files, EverythingWrittenIsOwnerOnly) {
  dspy::Predict<QA> qa;
  qa.demos = {demo("Capital of France?", "Paris")};
  ASSERT_TRUE(dspy::save(qa, dir_ / "program.json"));
  EXPECT_EQ(mode_of(dir_ / "program.json"), 0600U);

  dspy::EvaluationResult result;
  ASSERT_TRUE(result.save_json(dir_ / "results.json"));
  ASSERT_TRUE(result.save_csv(dir_ / "results.csv"));
  EXPECT_EQ(mode_of(dir_ / "results.json"), 0600U);
  EXPECT_EQ(mode_of(dir_ / "results.csv"), 0600U);

  {
    auto log = std::make_shared<dspy::JsonlLog>(dir_ / "calls.jsonl");
    ASSERT_TRUE(log->ok());
    auto lm = std::make_shared<ScriptedLM>(std::vector<std::string>{std::string(kParis)});
    auto scope = dspy::context({.callbacks = std::vector<std::shared_ptr<dspy::Callback>>{log}});
    qa.set_lm(lm);
    ASSERT_TRUE(qa({"Capital of France?"}));
    EXPECT_TRUE(log->ok());
  }
  EXPECT_EQ(mode_of(dir_ / "calls.jsonl"), 0600U);
  EXPECT_NE(read_all(dir_ / "calls.jsonl").find("Capital of France?"), std::string::npos);

  dspy::Cache cache({.directory = dir_ / "cache"});
  const auto key = dspy::cache_key("m", dspy::LMRequest{{{"user", "q"}}, {}, {}});
  ASSERT_TRUE(cache.put(key, {.completions = {"a"}, .usage = {}, .model = "m", .cache_hit = false}));
  EXPECT_EQ(mode_of(dir_ / "cache" / "v1" / key.hex().substr(0, 2) / key.hex()), 0600U);
}

TEST_F(Files, AnExistingFileKeepsItsPermissions) {
  dspy::Predict<QA> qa;
  const fs::path program = write("program.json", "{}");
  fs::permissions(program, fs::perms(0644));
  ASSERT_TRUE(dspy::save(qa, program));
  EXPECT_EQ(mode_of(program), 0644U);
  EXPECT_NE(read_all(program).find("\"demos\""), std::string::npos);  // replaced, not kept

  const fs::path log_path = write("calls.jsonl", "");
  fs::permissions(log_path, fs::perms(0640));
  dspy::JsonlLog log(log_path);
  EXPECT_TRUE(log.ok());
  EXPECT_EQ(mode_of(log_path), 0640U);
}

// ---- DSPy's load ----

// DSPy 3.3.1's Module.load reads `metadata.dependency_versions` and looks up each of its keys
// among its own python, dspy and cloudpickle versions (a KeyError for any other), and its save
// ends the file with a newline (orjson's OPT_APPEND_NEWLINE).
TEST_F(Files, SavedStateHasMetadataDspyLoadsAndEndsInANewline) {
  dspy::Predict<QA> qa;
  qa.demos = {demo("Capital of France?", "Paris")};
  const fs::path path = dir_ / "qa.json";
  ASSERT_TRUE(dspy::save(qa, path));
  const std::string text = read_all(path);
  EXPECT_EQ(text, dspy::save_string(qa));
  ASSERT_FALSE(text.empty());
  EXPECT_EQ(text.back(), '\n');
  EXPECT_NE(text[text.size() - 2], '\n');

  const auto metadata = boost::json::parse(text).at("metadata").as_object();
  for (const auto& kv : metadata.at("dependency_versions").as_object())
    EXPECT_TRUE(kv.key() == "python" || kv.key() == "dspy" || kv.key() == "cloudpickle") << kv.key();
  EXPECT_EQ(metadata.at("dspy_cpp_version").as_string(), dspy::kLibraryVersion);

  // Files saved before, with our version among the dependencies, still load.
  const fs::path old = write("old.json", R"({"self": {"demos": [], "signature": {"instructions": "old"}},
    "metadata": {"dependency_versions": {"dspy-cpp": "0.1.0"}}})");
  dspy::Predict<QA> back;
  ASSERT_TRUE(dspy::load(back, old));
  EXPECT_EQ(back.instructions(), "old");
}

}  // namespace files_test
