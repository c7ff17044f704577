// The floor: plain libcurl multi with curl_multi_poll, no framework. CONCURRENCY reused easy
// handles POST the same body to URL until CALLS replies have arrived; the reply is only checked
// for status 200. What dspy::LM adds on top of this is the framework's cost. An https URL is
// called as dspy::LM calls it: HTTP/2 where the server offers it, transfers multiplexed on a
// connection, trusting the certificate file named by BENCH_CA_BUNDLE.
//
//   http_floor_client URL BODY_FILE CALLS CONCURRENCY
#include <curl/curl.h>

#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "common.hpp"

namespace {

struct Transfer {
  CURL* easy = nullptr;
  std::string reply;
};

std::size_t on_body(char* data, std::size_t size, std::size_t n, void* user) {
  static_cast<Transfer*>(user)->reply.append(data, size * n);
  return size * n;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 5) {
    std::cerr << "usage: " << argv[0] << " URL BODY_FILE CALLS CONCURRENCY\n";
    return 2;
  }
  const std::string url = argv[1];
  std::ifstream file(argv[2]);
  std::stringstream buf;
  buf << file.rdbuf();
  const std::string body = buf.str();
  const long calls = std::atol(argv[3]);
  const long concurrency = std::min(std::atol(argv[4]), calls);
  if (body.empty() || calls <= 0 || concurrency <= 0) {
    std::cerr << "need a non-empty body file and positive CALLS and CONCURRENCY\n";
    return 2;
  }

  curl_global_init(CURL_GLOBAL_DEFAULT);
  CURLM* multi = curl_multi_init();
  curl_multi_setopt(multi, CURLMOPT_MAXCONNECTS, concurrency);
  curl_slist* headers = curl_slist_append(nullptr, "Content-Type: application/json");
  headers = curl_slist_append(headers, "Authorization: Bearer bench");
  headers = curl_slist_append(headers, "Expect:");

  const char* ca_bundle = std::getenv("BENCH_CA_BUNDLE");
  const bool tls = url.rfind("https://", 0) == 0;

  bench::Run run;
  std::vector<Transfer> transfers(static_cast<std::size_t>(concurrency));
  long started = 0;
  for (auto& t : transfers) {
    t.easy = curl_easy_init();
    curl_easy_setopt(t.easy, CURLOPT_URL, url.c_str());
    curl_easy_setopt(t.easy, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(t.easy, CURLOPT_POSTFIELDS, body.data());
    curl_easy_setopt(t.easy, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
    curl_easy_setopt(t.easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(t.easy, CURLOPT_TCP_NODELAY, 1L);
    curl_easy_setopt(t.easy, CURLOPT_TIMEOUT_MS, 60'000L);
    curl_easy_setopt(t.easy, CURLOPT_WRITEFUNCTION, &on_body);
    curl_easy_setopt(t.easy, CURLOPT_WRITEDATA, &t);
    curl_easy_setopt(t.easy, CURLOPT_PRIVATE, &t);
    if (tls) {
      curl_easy_setopt(t.easy, CURLOPT_HTTP_VERSION, static_cast<long>(CURL_HTTP_VERSION_2TLS));
      curl_easy_setopt(t.easy, CURLOPT_PIPEWAIT, 1L);
      if (ca_bundle) curl_easy_setopt(t.easy, CURLOPT_CAINFO, ca_bundle);
    }
    curl_multi_add_handle(multi, t.easy);
    ++started;
  }

  long done = 0, ok = 0, failed = 0;
  while (done < calls) {
    int running = 0;
    curl_multi_perform(multi, &running);
    int left = 0;
    while (CURLMsg* msg = curl_multi_info_read(multi, &left)) {
      if (msg->msg != CURLMSG_DONE) continue;
      Transfer* t = nullptr;
      curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &t);
      long status = 0;
      curl_easy_getinfo(msg->easy_handle, CURLINFO_RESPONSE_CODE, &status);
      (msg->data.result == CURLE_OK && status == 200 ? ok : failed) += 1;
      ++done;
      curl_multi_remove_handle(multi, t->easy);
      if (started < calls) {
        t->reply.clear();
        curl_multi_add_handle(multi, t->easy);
        ++started;
      }
    }
    if (done < calls) curl_multi_poll(multi, nullptr, 0, 1000, nullptr);
  }
  run.report("floor (libcurl multi + poll)", calls, concurrency, ok, "{\"failed\": " + std::to_string(failed) + "}");
  for (auto& t : transfers) curl_easy_cleanup(t.easy);
  curl_slist_free_all(headers);
  curl_multi_cleanup(multi);
  return failed == 0 ? 0 : 1;
}
