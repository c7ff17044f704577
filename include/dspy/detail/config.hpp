// DSPY_DECL marks a non-template function whose body lives in an `*_impl.hpp` header: `inline`
// in the header-only mode (the default), where the declaring header includes that body; nothing
// with DSPY_SEPARATE_COMPILATION, where only <dspy/src.hpp> includes it and compiles it once.
#pragma once

#if defined(DSPY_SEPARATE_COMPILATION)
#define DSPY_DECL
#else
#define DSPY_DECL inline
#endif
