// The response cache: SHA-256, key canonicalization, the memory LRU, and the disk cache under
// threads, processes, damaged files and writers killed mid-write.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <dspy/clients/cache.hpp>
#include <dspy/detail/cache/disk.hpp>
#include <filesystem>
#include <fstream>
#include <functional>
#include <future>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace cache_test {

namespace fs = std::filesystem;
using dspy::detail::sha256_hex;

// ---- SHA-256 ----

TEST(Sha256, FipsVectors) {
  // FIPS 180-2 appendix B / NIST CSRC examples.
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  EXPECT_EQ(
      sha256_hex("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrs"
                 "mnopqrstnopqrstu"),
      "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1");
  EXPECT_EQ(sha256_hex(std::string(1'000'000, 'a')),
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(Sha256, PaddingBoundaries) {
  // Lengths around the 55/56/64-byte padding edges, checked against coreutils sha256sum.
  const std::vector<std::pair<std::size_t, std::string>> vectors = {
      {55, "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318"},
      {56, "b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a"},
      {63, "7d3e74a05d7db15bce4ad9ec0658ea98e3f06eeecf16b4c6fff2da457ddc2f34"},
      {64, "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb"},
      {65, "635361c48bb9eab14198e76ea8ab7f1a41685d6ad62aa9146d301d4f17eb0ae0"},
      {119, "31eba51c313a5c08226adf18d4a359cfdfd8d2e816b13f4af952f7ea6584dcfb"},
      {120, "2f3d335432c70b580af0e8e1b3674a7c020d683aa5f73aaaedfdc55af904c21c"},
      {128, "6836cf13bac400e9105071cd6af47084dfacad4e5e302c94bfed24e013afb73e"},
  };
  for (const auto& [len, hex] : vectors) EXPECT_EQ(sha256_hex(std::string(len, 'a')), hex) << len;
}

TEST(Sha256, IncrementalUpdatesMatchOneShot) {
  const std::string data =
      "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrs"
      "mnopqrstnopqrstu";
  for (std::size_t split = 0; split <= data.size(); ++split) {
    dspy::detail::Sha256 h;
    h.update(std::string_view(data).substr(0, split)).update(std::string_view(data).substr(split));
    EXPECT_EQ(dspy::detail::to_hex(h.finish()), "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1")
        << split;
  }
}

// ---- Keys ----

dspy::LMRequest sample_request() {
  dspy::LMRequest r;
  r.messages = {{"system", "Answer briefly."}, {"user", "Capital of France?"}};
  r.config.temperature = 0.0;
  r.config.max_tokens = 100;
  return r;
}

TEST(CacheKey, CanonicalRequestIsSortedCompactJson) {
  EXPECT_EQ(dspy::canonical_request("openai/gpt-4o-mini", sample_request()),
            R"({"max_tokens":100,"messages":[{"content":"Answer briefly.","role":"system"},)"
            R"({"content":"Capital of France?","role":"user"}],"model":"openai/gpt-4o-mini","temperature":0E0})");
  EXPECT_EQ(dspy::cache_key("openai/gpt-4o-mini", sample_request()).hex(),
            sha256_hex(dspy::canonical_request("openai/gpt-4o-mini", sample_request())));
}

TEST(CacheKey, SameRequestSameKeyWhateverTheObjectOrder) {
  auto a = sample_request();
  a.config.extra = {{"top_p", 0.9}, {"seed", 7}, {"metadata", boost::json::object{{"x", 1}, {"y", 2}}}};
  auto b = sample_request();
  b.config.extra = {{"metadata", boost::json::object{{"y", 2}, {"x", 1}}}, {"seed", 7}, {"top_p", 0.9}};
  EXPECT_EQ(dspy::cache_key("m", a), dspy::cache_key("m", b));
}

TEST(CacheKey, CredentialsAndEndpointNeverInfluenceTheKey) {
  const auto base = dspy::cache_key("m", sample_request());
  auto r = sample_request();
  r.config.extra = {{"api_key", "sk-secret-one"}, {"api_base", "http://a.example"}, {"base_url", "http://b.example"}};
  EXPECT_EQ(dspy::cache_key("m", r), base);
  EXPECT_EQ(dspy::canonical_request("m", r).find("sk-secret-one"), std::string::npos);
}

TEST(CacheKey, EveryParameterInfluencesTheKey) {
  const auto base = dspy::cache_key("m", sample_request());
  std::vector<dspy::LMRequest> variants(8, sample_request());
  variants[0].messages[1].content = "Capital of Spain?";
  variants[1].messages[0].role = "user";
  variants[2].config.temperature = 0.7;
  variants[3].config.max_tokens = 101;
  variants[4].config.n = 3;
  variants[5].config.stop = std::vector<std::string>{"\n\n"};
  variants[6].config.extra = {{"top_p", 0.5}};
  variants[7].response_format = boost::json::object{{"type", "json_object"}};
  for (std::size_t i = 0; i < variants.size(); ++i) EXPECT_NE(dspy::cache_key("m", variants[i]), base) << i;
  EXPECT_NE(dspy::cache_key("m2", sample_request()), base);
}

TEST(CacheKey, RolloutIdSeparatesOtherwiseEqualRequests) {
  const auto r = sample_request();
  const auto with_rollout = [&](std::int64_t id) {
    auto copy = r;
    copy.config.rollout_id = id;
    return dspy::cache_key("m", copy);
  };
  const auto none = dspy::cache_key("m", r);
  const auto one = with_rollout(1);
  EXPECT_NE(none, one);
  EXPECT_NE(one, with_rollout(2));
  EXPECT_EQ(one, with_rollout(1));
}

TEST(CacheKey, FromHexAcceptsOnlyDigests) {
  const std::string good(64, 'a');
  ASSERT_TRUE(dspy::CacheKey::from_hex(good));
  EXPECT_EQ(dspy::CacheKey::from_hex(good)->hex(), good);
  EXPECT_FALSE(dspy::CacheKey::from_hex(std::string(63, 'a')));
  EXPECT_FALSE(dspy::CacheKey::from_hex(std::string(64, 'A')));
  EXPECT_FALSE(dspy::CacheKey::from_hex("../" + std::string(61, 'a')));
}

// ---- Cache ----

dspy::CacheKey key_of(int i) { return dspy::cache_key("m", dspy::LMRequest{{{"user", std::to_string(i)}}, {}, {}}); }

dspy::LMResponse reply(std::string text) {
  return {
      .completions = {std::move(text)}, .usage = {10, 5, 15}, .model = "gpt-4o-mini-2024-07-18", .cache_hit = false};
}

// A fresh directory per test, removed afterwards.
class CacheDir : public ::testing::Test {
 protected:
  void SetUp() override {
    static std::atomic<int> counter{0};
    dir_ = fs::temp_directory_path() /
           ("dspy-cache-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter.fetch_add(1)));
    fs::remove_all(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  [[nodiscard]] dspy::Cache disk_only() const { return dspy::Cache({.enable_memory = false, .directory = dir_}); }
  [[nodiscard]] fs::path entry_path(const dspy::CacheKey& k) const {
    return dir_ / "v1" / k.hex().substr(0, 2) / k.hex();
  }

  [[nodiscard]] std::vector<fs::path> temp_files() const {
    std::vector<fs::path> out;
    if (!fs::exists(dir_)) return out;
    for (const auto& e : fs::recursive_directory_iterator(dir_))
      if (e.path().extension() == ".tmp") out.push_back(e.path());
    return out;
  }

  fs::path dir_;
};

// Runs `child` in a forked process; its return value is the exit status.
int run_in_child(const std::function<int()>& child) {
  const pid_t pid = ::fork();
  if (pid == 0) ::_exit(child());
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

TEST_F(CacheDir, HitIsMarkedAndCostsNoTokens) {
  dspy::Cache cache({.directory = dir_});
  EXPECT_FALSE(cache.get(key_of(1)));
  EXPECT_TRUE(cache.put(key_of(1), reply("Paris")));
  const auto hit = cache.get(key_of(1));
  ASSERT_TRUE(hit);
  EXPECT_TRUE(hit->cache_hit);
  EXPECT_EQ(hit->usage, dspy::Usage{});
  EXPECT_EQ(hit->completions, std::vector<std::string>{"Paris"});
  EXPECT_EQ(hit->model, "gpt-4o-mini-2024-07-18");
}

TEST_F(CacheDir, MemoryLruEvictsTheLeastRecentlyUsed) {
  dspy::Cache cache({.enable_disk = false, .memory_max_entries = 3});
  for (int i = 0; i < 3; ++i) cache.put(key_of(i), reply(std::to_string(i)));
  ASSERT_TRUE(cache.get(key_of(0)));  // 0 is now the most recent; 1 the least
  cache.put(key_of(3), reply("3"));
  EXPECT_EQ(cache.memory_size(), 3U);
  EXPECT_FALSE(cache.get(key_of(1)));
  for (int i : {0, 2, 3}) {
    const auto hit = cache.get(key_of(i));
    ASSERT_TRUE(hit) << i;
    EXPECT_EQ(hit->completions.front(), std::to_string(i));
  }
  EXPECT_FALSE(fs::exists(dir_));
  cache.clear_memory();
  EXPECT_EQ(cache.memory_size(), 0U);
  EXPECT_FALSE(cache.get(key_of(0)));
}

TEST_F(CacheDir, PutReplacesTheValueUnderAKey) {
  dspy::Cache cache({.directory = dir_});
  cache.put(key_of(1), reply("old"));
  cache.put(key_of(1), reply("new"));
  EXPECT_EQ(cache.get(key_of(1))->completions.front(), "new");
  EXPECT_EQ(disk_only().get(key_of(1))->completions.front(), "new");
  EXPECT_EQ(cache.memory_size(), 1U);
}

TEST_F(CacheDir, DiskRoundTripAcrossCacheObjects) {
  dspy::LMResponse r{
      .completions = {"line one\nline two", "", "unicode: é ✓ \"quoted\""}, .usage = {1, 2, 3}, .model = "m"};
  {
    dspy::Cache writer({.enable_memory = false, .directory = dir_});
    ASSERT_TRUE(writer.put(key_of(7), r));
  }
  dspy::Cache reader({.directory = dir_});
  const auto hit = reader.get(key_of(7));
  ASSERT_TRUE(hit);
  EXPECT_EQ(hit->completions, r.completions);
  EXPECT_EQ(hit->model, "m");
  EXPECT_EQ(reader.memory_size(), 1U);  // a disk hit is kept in memory

  // Sharded layout, private file, no temp file left behind.
  const auto path = entry_path(key_of(7));
  ASSERT_TRUE(fs::exists(path));
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600U);
  EXPECT_TRUE(temp_files().empty());
}

TEST_F(CacheDir, DisabledLayersStoreNothing) {
  dspy::Cache off({.enable_memory = false, .enable_disk = false, .directory = dir_});
  EXPECT_TRUE(off.put(key_of(1), reply("x")));
  EXPECT_FALSE(off.get(key_of(1)));
  EXPECT_EQ(off.memory_size(), 0U);
  EXPECT_FALSE(fs::exists(dir_));
}

TEST_F(CacheDir, UnwritableDirectoryIsAMissNotAFailure) {
  fs::create_directories(dir_);
  const fs::path file = dir_ / "not-a-directory";
  std::ofstream(file) << "x";
  dspy::Cache cache({.directory = file});
  EXPECT_FALSE(cache.put(key_of(1), reply("x")));
  EXPECT_TRUE(cache.get(key_of(1)));  // still served from memory
  EXPECT_FALSE(dspy::Cache({.enable_memory = false, .directory = file}).get(key_of(1)));
}

TEST_F(CacheDir, CorruptEntryIsAMissAndIsRewritten) {
  auto cache = disk_only();
  ASSERT_TRUE(cache.put(key_of(1), reply("Paris")));
  const auto path = entry_path(key_of(1));
  std::string good;
  {
    std::ifstream in(path, std::ios::binary);
    good.assign(std::istreambuf_iterator<char>(in), {});
  }
  const auto header_end = good.find('\n');
  ASSERT_NE(header_end, std::string::npos);

  std::vector<std::string> damaged;
  for (std::size_t len : {std::size_t{0}, std::size_t{5}, header_end, header_end + 1, header_end + 10, good.size() - 1})
    damaged.push_back(good.substr(0, len));  // truncated
  std::string flipped = good;
  flipped[flipped.find("Paris")] = 'B';  // same length, damaged body
  damaged.push_back(flipped);
  damaged.push_back(good + "trailing garbage");
  std::string other_key = good;
  other_key.replace(other_key.find(key_of(1).hex()), 64, key_of(2).hex());  // an entry under the wrong name
  damaged.push_back(other_key);

  for (std::size_t i = 0; i < damaged.size(); ++i) {
    std::ofstream(path, std::ios::binary | std::ios::trunc) << damaged[i];
    EXPECT_FALSE(cache.get(key_of(1))) << i;
    ASSERT_TRUE(cache.put(key_of(1), reply("Paris")));
    const auto hit = cache.get(key_of(1));
    ASSERT_TRUE(hit) << i;
    EXPECT_EQ(hit->completions.front(), "Paris");
  }
}

// An entry replaced by something that is not a regular file is a miss, read without blocking and
// without reading it; the next put replaces it with an entry again.
TEST_F(CacheDir, AnEntryThatIsNotARegularFileIsAMissAndIsReplaced) {
  auto cache = disk_only();
  const auto path = entry_path(key_of(1));
  const auto replace_with = [&](const std::function<void()>& make) {
    fs::create_directories(path.parent_path());
    fs::remove(path);
    make();
  };
  const std::vector<std::pair<std::string, std::function<void()>>> cases = {
      {"a symlink to /dev/zero", [&] { fs::create_symlink("/dev/zero", path); }},
      {"a FIFO", [&] { ASSERT_EQ(::mkfifo(path.c_str(), 0600), 0); }},
      {"a directory", [&] { fs::create_directory(path); }},
  };
  for (const auto& [what, make] : cases) {
    replace_with(make);
    // A reader that blocks (a FIFO with no writer) is released by opening the FIFO for writing.
    auto read = std::async(std::launch::async, [&] { return cache.get(key_of(1)); });
    if (read.wait_for(std::chrono::seconds(10)) == std::future_status::timeout) {
      ADD_FAILURE() << what << ": the read blocked";
      const int fd = ::open(path.c_str(), O_WRONLY | O_NONBLOCK);
      if (fd >= 0) ::close(fd);
    }
    EXPECT_FALSE(read.get()) << what;
    if (what == "a directory") fs::remove(path);  // rename() cannot replace a directory with a file
    ASSERT_TRUE(cache.put(key_of(1), reply("Paris"))) << what;
    const auto hit = cache.get(key_of(1));
    ASSERT_TRUE(hit) << what;
    EXPECT_EQ(hit->completions.front(), "Paris");
  }
}

// A symlink to a regular file holding a valid entry is not read either: the cache writes no
// symlinks, so one in its place is not its own.
TEST_F(CacheDir, ASymlinkToAValidEntryIsAMiss) {
  auto cache = disk_only();
  ASSERT_TRUE(cache.put(key_of(1), reply("Paris")));
  const auto path = entry_path(key_of(1));
  const fs::path elsewhere = dir_ / "elsewhere";
  fs::rename(path, elsewhere);
  fs::create_symlink(elsewhere, path);
  EXPECT_FALSE(cache.get(key_of(1)));
}

// A file past the entry size limit is not read (a sparse file: no disk space is used).
TEST_F(CacheDir, AnEntryFileLargerThanTheLimitIsAMissWithoutBeingRead) {
  auto cache = disk_only();
  ASSERT_TRUE(cache.put(key_of(1), reply("Paris")));
  const auto path = entry_path(key_of(1));
  fs::resize_file(path, dspy::detail::kMaxCacheEntryBytes + 1);
  const auto start = std::chrono::steady_clock::now();
  EXPECT_FALSE(cache.get(key_of(1)));
  // Reading the 256 MiB of zeros takes seconds; not reading them, microseconds.
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));
}

TEST_F(CacheDir, ConcurrentWritersAndReadersFromManyThreads) {
  constexpr int threads = 8;
  constexpr int keys = 32;
  constexpr int rounds = 20;
  dspy::Cache shared({.directory = dir_, .memory_max_entries = 16});  // small: forces evictions
  for (int k = 0; k < keys; ++k) shared.put(key_of(k), reply("k" + std::to_string(k) + "-initial"));
  // Every key is on disk from here on, so every read must hit: a reader that sees a half-written
  // entry counts as bad, as does one that sees another key's value.
  std::atomic<int> bad{0};
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      // Half the threads share one Cache object, half have their own over the same directory.
      std::optional<dspy::Cache> own;
      if (t % 2) own.emplace(dspy::CacheOptions{.enable_memory = false, .directory = dir_});
      dspy::Cache& cache = own ? *own : shared;
      for (int r = 0; r < rounds; ++r)
        for (int k = 0; k < keys; ++k) {
          cache.put(key_of(k), reply("k" + std::to_string(k) + "-w" + std::to_string(t)));
          const auto hit = cache.get(key_of((k + t) % keys));
          if (!hit || hit->completions.front().rfind("k" + std::to_string((k + t) % keys) + "-", 0) != 0) ++bad;
        }
    });
  }
  for (auto& th : pool) th.join();
  EXPECT_EQ(bad.load(), 0);
  auto fresh = disk_only();
  for (int k = 0; k < keys; ++k) {
    const auto hit = fresh.get(key_of(k));
    ASSERT_TRUE(hit) << k;
    EXPECT_EQ(hit->completions.front().rfind("k" + std::to_string(k) + "-w", 0), 0U);
  }
  EXPECT_TRUE(temp_files().empty());
}

TEST_F(CacheDir, TwoProcessesShareTheDiskCache) {
  dspy::Cache parent({.directory = dir_});
  ASSERT_TRUE(parent.put(key_of(1), reply("from parent")));

  // The child sees the parent's entry, and writes one of its own.
  const int status = run_in_child([&] {
    dspy::Cache child({.directory = dir_});
    const auto hit = child.get(key_of(1));
    if (!hit || !hit->cache_hit || hit->completions.front() != "from parent") return 1;
    return child.put(key_of(2), reply("from child")) ? 0 : 2;
  });
  ASSERT_EQ(status, 0);

  const auto hit = parent.get(key_of(2));
  ASSERT_TRUE(hit);
  EXPECT_TRUE(hit->cache_hit);
  EXPECT_EQ(hit->completions.front(), "from child");
}

TEST_F(CacheDir, ManyProcessesWritingTheSameKeysLeaveWholeEntries) {
  constexpr int processes = 4;
  constexpr int keys = 16;
  {
    auto cache = disk_only();
    for (int k = 0; k < keys; ++k) ASSERT_TRUE(cache.put(key_of(k), reply("k" + std::to_string(k) + "-initial")));
  }
  // As with threads: every read must hit, with a whole entry for its key.
  std::vector<pid_t> children;
  for (int p = 0; p < processes; ++p) {
    const pid_t pid = ::fork();
    if (pid == 0) {
      dspy::Cache cache({.enable_memory = false, .directory = dir_});
      int failures = 0;
      for (int r = 0; r < 25; ++r)
        for (int k = 0; k < keys; ++k) {
          if (!cache.put(key_of(k), reply("k" + std::to_string(k) + "-p" + std::to_string(p)))) ++failures;
          const auto hit = cache.get(key_of((k + p) % keys));
          if (!hit || hit->completions.front().rfind("k" + std::to_string((k + p) % keys) + "-", 0) != 0) ++failures;
        }
      ::_exit(failures == 0 ? 0 : 1);
    }
    children.push_back(pid);
  }
  for (pid_t pid : children) {
    int status = 0;
    ::waitpid(pid, &status, 0);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  }
  auto cache = disk_only();
  for (int k = 0; k < keys; ++k) {
    const auto hit = cache.get(key_of(k));
    ASSERT_TRUE(hit) << k;
    EXPECT_EQ(hit->completions.front().rfind("k" + std::to_string(k) + "-p", 0), 0U);
  }
  EXPECT_TRUE(temp_files().empty());
}

TEST_F(CacheDir, WriterKilledMidWriteLeavesNoVisibleDamage) {
  auto cache = disk_only();
  ASSERT_TRUE(cache.put(key_of(1), reply("old")));
  const auto target = entry_path(key_of(1));
  const auto fresh_target = entry_path(key_of(2));

  // The child does what a writer does up to the rename (a temp file beside each entry, half
  // written), tells the parent, and is killed there.
  int ready[2];
  ASSERT_EQ(::pipe(ready), 0);
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::close(ready[0]);
    for (const auto& [key, path] : {std::pair{key_of(1), target}, std::pair{key_of(2), fresh_target}}) {
      const std::string bytes = dspy::detail::encode_cache_entry(key.hex(), reply("new"));
      fs::create_directories(path.parent_path());
      std::ofstream(path.parent_path() / ("." + key.hex() + "." + dspy::detail::unique_temp_suffix() + ".tmp"),
                    std::ios::binary)
          << bytes.substr(0, bytes.size() / 2);
    }
    const char byte = 1;
    if (::write(ready[1], &byte, 1) != 1) ::_exit(1);
    for (;;) ::pause();
  }
  ::close(ready[1]);
  char byte = 0;
  ASSERT_EQ(::read(ready[0], &byte, 1), 1);
  ::close(ready[0]);
  ::kill(pid, SIGKILL);
  int status = 0;
  ::waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFSIGNALED(status));

  EXPECT_EQ(temp_files().size(), 2U);  // the partial writes exist, but no reader looks at them
  const auto hit = cache.get(key_of(1));
  ASSERT_TRUE(hit);
  EXPECT_EQ(hit->completions.front(), "old");
  EXPECT_FALSE(cache.get(key_of(2)));
  ASSERT_TRUE(cache.put(key_of(2), reply("new")));
  EXPECT_EQ(cache.get(key_of(2))->completions.front(), "new");
}

// ---- Defaults ----

// Sets environment variables for one test and restores them afterwards.
class ScopedEnv {
 public:
  void set(const char* name, const char* value) {
    if (const char* old = std::getenv(name))
      saved_.emplace_back(name, std::string(old));
    else
      saved_.emplace_back(name, std::nullopt);
    if (value)
      ::setenv(name, value, 1);
    else
      ::unsetenv(name);
  }
  ~ScopedEnv() {
    for (auto it = saved_.rbegin(); it != saved_.rend(); ++it) {
      if (it->second)
        ::setenv(it->first.c_str(), it->second->c_str(), 1);
      else
        ::unsetenv(it->first.c_str());
    }
  }

 private:
  std::vector<std::pair<std::string, std::optional<std::string>>> saved_;
};

TEST(CacheDefaults, DirectoryFollowsDspyCachedirThenXdgThenHome) {
  ScopedEnv env;
  env.set("DSPY_CACHEDIR", "/tmp/explicit");
  env.set("XDG_CACHE_HOME", "/tmp/xdg");
  env.set("HOME", "/tmp/home");
  EXPECT_EQ(dspy::default_cache_directory(), fs::path("/tmp/explicit"));
  env.set("DSPY_CACHEDIR", nullptr);
  EXPECT_EQ(dspy::default_cache_directory(), fs::path("/tmp/xdg/dspy-cpp"));
  env.set("XDG_CACHE_HOME", "relative/is/ignored");
  EXPECT_EQ(dspy::default_cache_directory(), fs::path("/tmp/home/.cache/dspy-cpp"));
  env.set("HOME", nullptr);
  EXPECT_EQ(dspy::default_cache_directory(), fs::path());
  dspy::Cache cache;
  EXPECT_FALSE(cache.options().enable_disk);
}

TEST_F(CacheDir, ConfigureCacheReplacesTheProcessDefault) {
  {
    ScopedEnv env;
    env.set("DSPY_CACHEDIR", dir_.c_str());
    dspy::configure_cache({});
    const auto first = dspy::default_cache();
    EXPECT_EQ(first, dspy::default_cache());
    EXPECT_EQ(first->options().directory, dir_);
    EXPECT_TRUE(first->options().enable_disk);

    dspy::configure_cache({.enable_disk = false, .memory_max_entries = 5});
    const auto second = dspy::default_cache();
    EXPECT_NE(second, first);
    EXPECT_FALSE(second->options().enable_disk);
    EXPECT_EQ(second->options().memory_max_entries, 5U);
  }
  dspy::configure_cache({});  // back to the environment's default for later tests
}

}  // namespace cache_test
