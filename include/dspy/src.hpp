// The compiled part of dspy-cpp. With DSPY_SEPARATE_COMPILATION defined for every translation
// unit of a program, the library's non-template code (the bodies in the *_impl.hpp headers and
// the HTTP transport) is compiled once, in the one .cpp that includes this header, instead of in
// each file that uses it: as Boost.JSON's and Asio's src.hpp. The CMake target
// dspy::dspy_compiled is that .cpp, with the definition set for its users. (Asio's own separate
// compilation, BOOST_ASIO_SEPARATE_COMPILATION with <boost/asio/impl/src.hpp>, is the program's
// choice: it applies to all its Asio code.)
#pragma once

#if !defined(DSPY_SEPARATE_COMPILATION)
#error "dspy/src.hpp compiles the library's separate part: define DSPY_SEPARATE_COMPILATION for every translation unit (or link dspy::dspy_compiled)"
#endif

#include "all.hpp"
#include "adapters/base_impl.hpp"
#include "adapters/chat_adapter_impl.hpp"
#include "adapters/json_adapter_impl.hpp"
#include "adapters/signature_view_impl.hpp"
#include "adapters/streaming_impl.hpp"
#include "adapters/two_step_adapter_impl.hpp"
#include "adapters/utils_impl.hpp"
#include "adapters/types/audio_impl.hpp"
#include "adapters/types/citations_impl.hpp"
#include "adapters/types/document_impl.hpp"
#include "adapters/types/file_impl.hpp"
#include "adapters/types/image_impl.hpp"
#include "adapters/types/media_impl.hpp"
#include "adapters/types/reasoning_impl.hpp"
#include "adapters/types/tool_impl.hpp"
#include "adapters/xml_adapter_impl.hpp"
#include "clients/base_lm_impl.hpp"
#include "clients/cache_impl.hpp"
#include "clients/embedder_impl.hpp"
#include "clients/history_impl.hpp"
#include "clients/lm_transport.hpp"
#include "clients/usage_impl.hpp"
#include "detail/cache/canonical_impl.hpp"
#include "detail/cache/disk_impl.hpp"
#include "detail/exception_impl.hpp"
#include "detail/http/backoff_impl.hpp"
#include "detail/http/curl_multi.hpp"
#include "detail/http/exchange_impl.hpp"
#include "detail/http/provider_impl.hpp"
#include "detail/io/binary_impl.hpp"
#include "detail/io/csv_impl.hpp"
#include "detail/io/file_impl.hpp"
#include "detail/sha256_impl.hpp"
#include "detail/sync_wait_impl.hpp"
#include "detail/text/json_string_impl.hpp"
#include "detail/text/pytext_impl.hpp"
#include "detail/text/redact_impl.hpp"
#include "detail/text/tolerant_impl.hpp"
#include "detail/text/utf8_impl.hpp"
#include "detail/text/xml_impl.hpp"
#include "detail/timer_impl.hpp"
#include "evaluate/benchmark_impl.hpp"
#include "evaluate/compare_impl.hpp"
#include "evaluate/evaluate_impl.hpp"
#include "evaluate/metrics_impl.hpp"
#include "evaluate/report_render_impl.hpp"
#include "predict/module_call_impl.hpp"
#include "predict/parallel_impl.hpp"
#include "predict/predict_impl.hpp"
#include "predict/refine_impl.hpp"
#include "primitives/callback_impl.hpp"
#include "primitives/otlp_impl.hpp"
#include "primitives/prediction_impl.hpp"
#include "primitives/settings_impl.hpp"
#include "primitives/state_impl.hpp"
#include "primitives/text_impl.hpp"
#include "retrievers/embeddings_impl.hpp"
#include "signatures/signature_impl.hpp"
#include "testing/hash_embedding_impl.hpp"
#include "testing/routed_lm_impl.hpp"

template class dspy::detail::BasicCurlService<boost::asio::any_io_executor>;
template class dspy::BasicLM<boost::asio::any_io_executor>;
template void dspy::detail::spawn_batch_worker(const boost::asio::any_io_executor&,
                                               std::shared_ptr<dspy::detail::BatchCore>,
                                               boost::asio::awaitable<void>, boost::asio::cancellation_signal&);
template boost::asio::awaitable<void> dspy::detail::run_batch(std::shared_ptr<dspy::detail::BatchCore>, std::size_t);
template dspy::asio::awaitable<dspy::Result<std::map<std::string, std::string>>>
dspy::detail::offer_feedback<dspy::OfferFeedback>(dspy::LMHandle, dspy::OfferFeedback::Input);
