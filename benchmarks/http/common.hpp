// What both HTTP benchmark clients report, measured the same way: wall time, process CPU time
// (user + system) and peak RSS, as one JSON line on stdout.
#pragma once

#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>

namespace bench {

inline double cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

// VmRSS now, or VmHWM (the peak) with "VmHWM:".
inline long rss_kib(const char* key = "VmRSS:") {
  std::ifstream status("/proc/self/status");
  for (std::string line; std::getline(status, line);)
    if (line.rfind(key, 0) == 0) return std::stol(line.substr(std::string(key).size()));
  return 0;
}

struct Run {
  std::chrono::steady_clock::time_point start = std::chrono::steady_clock::now();
  double cpu0 = cpu_seconds();
  long rss0 = rss_kib();  // before any call: what in-flight calls add is measured against it
  double secs = -1;
  double cpu = 0;
  long peak = 0;

  // Ends the measured span when the last call has returned: checking, weighing and freeing the
  // results afterwards is not the calls' work.
  void stop() {
    if (secs >= 0) return;
    secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    cpu = cpu_seconds() - cpu0;
    peak = rss_kib("VmHWM:");
  }

  // `results_kib`: the heap the client's results held at the end (0: it keeps none), which the
  // last figure leaves out of the peak.
  void report(const char* client, long calls, long concurrency, long ok, const std::string& errors,
              long results_kib = 0) {
    stop();
    const auto per_in_flight = [&](long kib) { return static_cast<double>(kib) / static_cast<double>(concurrency); };
    std::printf(
        "{\"client\": \"%s\", \"calls\": %ld, \"concurrency\": %ld, \"ok\": %ld, \"errors\": %s, \"seconds\": %.3f, "
        "\"calls_per_s\": %.0f, \"cpu_us_per_call\": %.1f, \"peak_rss_kib\": %ld, \"rss_kib_per_in_flight\": %.2f, "
        "\"results_kib\": %ld, \"rss_kib_per_in_flight_without_results\": %.2f}\n",
        client, calls, concurrency, ok, errors.c_str(), secs, static_cast<double>(calls) / secs,
        cpu * 1e6 / static_cast<double>(calls), peak, per_in_flight(peak - rss0), results_kib,
        per_in_flight(peak - rss0 - results_kib));
  }
};

}  // namespace bench
