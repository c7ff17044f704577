// Call history: bounds, threads, DSPy's inspect_history layout, and credential redaction.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <ctime>
#include <deque>
#include <dspy/clients/history.hpp>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace history_test {

using namespace std::chrono;

dspy::HistoryEntry entry(std::string reply) {
  dspy::HistoryEntry e;
  e.model = "openai/gpt-4o-mini";
  e.messages = {{"user", "q"}};
  e.outputs = {std::move(reply)};
  e.usage = {3, 1, 4};
  e.latency = milliseconds(12);
  e.timestamp = system_clock::now();
  return e;
}

std::vector<std::string> replies(const std::vector<dspy::HistoryEntry>& entries) {
  std::vector<std::string> out;
  for (const auto& e : entries) out.push_back(e.outputs.front());
  return out;
}

TEST(History, KeepsTheNewestEntriesUpToItsCapacity) {
  dspy::LMHistory h(3);
  for (int i = 1; i <= 5; ++i) h.add(entry(std::to_string(i)));
  EXPECT_EQ(h.size(), 3U);
  EXPECT_EQ(replies(h.last(10)), (std::vector<std::string>{"3", "4", "5"}));
  EXPECT_EQ(replies(h.last(2)), (std::vector<std::string>{"4", "5"}));
  EXPECT_TRUE(h.last(0).empty());

  h.set_capacity(1);
  EXPECT_EQ(replies(h.last(10)), (std::vector<std::string>{"5"}));
  h.set_capacity(0);  // history off
  h.add(entry("6"));
  EXPECT_EQ(h.size(), 0U);
  h.set_capacity(2);
  h.add(entry("7"));
  EXPECT_EQ(replies(h.last(10)), (std::vector<std::string>{"7"}));
  h.clear();
  EXPECT_EQ(h.size(), 0U);
}

// The history keeps its entries in a ring that an add refills in place once full. Checked
// against the plain rule (drop the oldest when full; an entry over the byte bound is not kept;
// then drop the oldest while over either bound) through random adds, bound changes and clears.
TEST(History, TheRingKeepsWhatAQueueWould) {
  struct Queue {
    std::size_t capacity = 8, max_bytes = 4000, bytes = 0;
    std::deque<std::pair<std::string, std::size_t>> kept;
    void trim() {
      while (!kept.empty() && (kept.size() > capacity || bytes > max_bytes)) {
        bytes -= kept.front().second;
        kept.pop_front();
      }
    }
    void add(const dspy::HistoryEntry& e) {
      if (capacity == 0) return;
      if (kept.size() == capacity) {
        bytes -= kept.front().second;
        kept.pop_front();
      }
      const std::size_t b = dspy::approx_bytes(e);
      if (b > max_bytes) return;
      kept.emplace_back(e.outputs.front(), b);
      bytes += b;
      trim();
    }
  } queue;
  dspy::LMHistory ring(queue.capacity, queue.max_bytes);
  std::mt19937 rng(7);
  for (int step = 0; step < 20000; ++step) {
    const unsigned op = rng() % 100;
    if (op < 85) {
      const auto e = entry(std::to_string(step) + std::string(rng() % 1200, 'x'));
      queue.add(e);
      ring.add(e);
    } else if (op < 92) {
      queue.capacity = rng() % 12;
      queue.trim();
      ring.set_capacity(queue.capacity);
    } else if (op < 99) {
      queue.max_bytes = 500 + rng() % 6000;
      queue.trim();
      ring.set_max_bytes(queue.max_bytes);
    } else {
      queue.kept.clear();
      queue.bytes = 0;
      ring.clear();
    }
    std::vector<std::string> expected;
    for (const auto& [reply, b] : queue.kept) expected.push_back(reply);
    ASSERT_EQ(replies(ring.last(100)), expected) << "step " << step;
    ASSERT_EQ(ring.bytes(), queue.bytes) << "step " << step;
  }
}

TEST(History, EntriesKeepEverythingAboutTheCall) {
  dspy::LMHistory h;
  EXPECT_EQ(h.capacity(), 10'000U);  // DSPy's MAX_HISTORY_SIZE
  auto e = entry("Paris");
  e.cache_hit = true;
  e.usage = {};
  h.add(e);
  const auto got = h.last(1).at(0);
  EXPECT_EQ(got.model, "openai/gpt-4o-mini");
  EXPECT_EQ(got.messages, e.messages);
  EXPECT_EQ(got.latency, milliseconds(12));
  EXPECT_EQ(got.timestamp, e.timestamp);
  EXPECT_TRUE(got.cache_hit);
  EXPECT_EQ(got.usage, dspy::Usage{});
}

TEST(History, ConcurrentWritersAndReaders) {
  constexpr int threads = 8;
  constexpr int per_thread = 2000;
  dspy::LMHistory h(100);
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t)
    pool.emplace_back([&, t] {
      for (int i = 0; i < per_thread; ++i) {
        h.prefetch_oldest();  // as each LM call does, beside the other threads' adds (a hint: nothing to see)
        h.add(entry(std::to_string(t) + ":" + std::to_string(i)));
        if (i % 100 == 0) {
          EXPECT_LE(h.last(1000).size(), 100U);
        }
      }
    });
  for (auto& th : pool) th.join();
  EXPECT_EQ(h.size(), 100U);
  // Each thread's entries stay in the order it added them.
  std::vector<int> last_seen(threads, -1);
  for (const auto& r : replies(h.last(100))) {
    const auto colon = r.find(':');
    const int t = std::stoi(r.substr(0, colon));
    const int i = std::stoi(r.substr(colon + 1));
    EXPECT_GT(i, last_seen[static_cast<std::size_t>(t)]);
    last_seen[static_cast<std::size_t>(t)] = i;
  }
}

// Runs with TZ=UTC so that local-time timestamps are predictable; restores TZ afterwards.
class InspectHistory : public ::testing::Test {
 protected:
  void SetUp() override {
    if (const char* tz = std::getenv("TZ")) saved_tz_ = tz;
    ::setenv("TZ", "UTC", 1);
    ::tzset();
  }
  void TearDown() override {
    if (saved_tz_)
      ::setenv("TZ", saved_tz_->c_str(), 1);
    else
      ::unsetenv("TZ");
    ::tzset();
  }

  // The two calls whose rendering by DSPy's pretty_print_history is pinned below.
  static std::vector<dspy::HistoryEntry> two_calls() {
    const auto t = sys_days{year{2024} / 3 / 5} + hours(7) + minutes(8) + seconds(9);
    dspy::HistoryEntry first;
    first.messages = {{"system", "  You are terse.\n"}, {"user", "[[ ## question ## ]]\nCapital of France?\n\n"}};
    first.outputs = {"\n[[ ## answer ## ]]\nParis  "};
    first.timestamp = time_point_cast<system_clock::duration>(t + microseconds(123));
    dspy::HistoryEntry second;
    second.messages = {{"USER", "hi"}};
    second.outputs = {"a", "b", "c"};
    second.timestamp = time_point_cast<system_clock::duration>(t + seconds(1));
    return {first, second};
  }

 private:
  std::optional<std::string> saved_tz_;
};

// Both expectations are DSPy 3.3's own output for the same two calls (history list, n=2), without
// and with colours.
constexpr std::string_view plain_layout =
    "\n\n\n\n[2024-03-05T07:08:09.000123]\n\nSystem message:\n\nYou are terse.\n\n\nUser message:\n\n"
    "[[ ## question ## ]]\nCapital of France?\n\n\nResponse:\n\n[[ ## answer ## ]]\nParis\n\n\n\n\n\n"
    "[2024-03-05T07:08:10]\n\nUser message:\n\nhi\n\n\nResponse:\n\na\n\n \t (and 2 other completions)\n\n\n\n\n";
constexpr std::string_view coloured_layout =
    "\n\n\n\n\x1b[34m[2024-03-05T07:08:09.000123]\x1b[0m\n\n\x1b[31mSystem message:\x1b[0m\n\nYou are terse.\n\n\n"
    "\x1b[31mUser message:\x1b[0m\n\n[[ ## question ## ]]\nCapital of France?\n\n\n\x1b[31mResponse:\x1b[0m\n\n"
    "\x1b[32m[[ ## answer ## ]]\nParis\x1b[0m\n\n\n\n\n\n\x1b[34m[2024-03-05T07:08:10]\x1b[0m\n\n"
    "\x1b[31mUser message:\x1b[0m\n\nhi\n\n\n\x1b[31mResponse:\x1b[0m\n\n\x1b[32ma\x1b[0m\n\n"
    "\x1b[31m \t (and 2 other completions)\x1b[0m\n\n\n\n\n";

TEST_F(InspectHistory, PrintsAsDspyDoes) {
  dspy::LMHistory h;
  h.add(entry("older call, not printed"));
  for (auto& e : two_calls()) h.add(e);
  std::ostringstream out;
  dspy::inspect_history(h, 2, out);
  EXPECT_EQ(out.str(), plain_layout);
}

TEST_F(InspectHistory, ColoursAsDspyDoesOnATerminal) {
  std::ostringstream out;
  dspy::detail::print_history(out, two_calls(), /*colour=*/true);
  EXPECT_EQ(out.str(), coloured_layout);
}

TEST_F(InspectHistory, NoColourForStreamsThatAreNotATerminal) {
  std::ostringstream out;
  EXPECT_FALSE(dspy::detail::wants_colour(out));
  // A redirected std::cout (as under ctest) is not a terminal either.
  if (!::isatty(STDOUT_FILENO)) {
    EXPECT_FALSE(dspy::detail::wants_colour(std::cout));
  }
}

TEST_F(InspectHistory, GlobalHistoryAndEdgeCases) {
  auto& global = dspy::global_history();
  global.clear();
  dspy::HistoryEntry no_reply;
  no_reply.messages = {{"user", "q"}};
  no_reply.timestamp = system_clock::time_point(seconds(0));
  global.add(no_reply);
  std::ostringstream out;
  dspy::inspect_history(5, out);  // more than there are
  EXPECT_EQ(out.str(), "\n\n\n\n[1970-01-01T00:00:00]\n\nUser message:\n\nq\n\n\n\n\n\n\n");
  global.clear();
  std::ostringstream empty;
  dspy::inspect_history(1, empty);
  EXPECT_EQ(empty.str(), "\n\n\n\n");
}

TEST_F(InspectHistory, TimestampsBeforeTheEpochKeepTheirMicroseconds) {
  const auto t = system_clock::time_point(duration_cast<system_clock::duration>(microseconds(-1)));
  EXPECT_EQ(dspy::detail::iso_local_time(t), "1969-12-31T23:59:59.999999");
}

// ---- Redaction ----

TEST(Redact, GivenSecretsWherever) {
  EXPECT_EQ(dspy::redact_secrets("key k3y-xyz used twice: k3y-xyz.", {"k3y-xyz"}),
            "key [REDACTED] used twice: [REDACTED].");
  EXPECT_EQ(dspy::redact_secrets("nothing here", {"", "absent"}), "nothing here");
}

TEST(Redact, CredentialShapes) {
  EXPECT_EQ(dspy::redact_secrets("Authorization: Bearer abc.def-ghi_jk\r\nAccept: */*"),
            "Authorization: Bearer [REDACTED]\r\nAccept: */*");
  EXPECT_EQ(dspy::redact_secrets("x-api-key: ant-123\nanthropic-version: 2023-06-01"),
            "x-api-key: [REDACTED]\nanthropic-version: 2023-06-01");
  EXPECT_EQ(dspy::redact_secrets("X-Goog-Api-Key:zzz"), "X-Goog-Api-Key:[REDACTED]");
  EXPECT_EQ(dspy::redact_secrets(R"({"api_key": "secret-1", "model": "m"})"),
            R"({"api_key": "[REDACTED]", "model": "m"})");
  EXPECT_EQ(dspy::redact_secrets("https://h/v1?apikey=abc&x=1"), "https://h/v1?apikey=[REDACTED]&x=1");
  EXPECT_EQ(dspy::redact_secrets("OPENAI_API_KEY=abc123 rest"), "OPENAI_API_KEY=[REDACTED] rest");
  EXPECT_EQ(dspy::redact_secrets("Incorrect API key provided: sk-proj-abcdefghijklmnop1234. See docs"),
            "Incorrect API key provided: [REDACTED]. See docs");
}

TEST(Redact, LeavesOrdinaryTextAlone) {
  const std::string text = "use sk-learn; the api key docs; a task-sk-123456789012345678 id; bearer\nnext";
  EXPECT_EQ(dspy::redact_secrets(text), text);
}

TEST(Redact, OverlappingMatchesBecomeOneRedaction) {
  EXPECT_EQ(dspy::redact_secrets("Bearer sk-abcdefghijklmnopqrst", {"sk-abcdefghijklmnopqrst"}), "Bearer [REDACTED]");
}

}  // namespace history_test
