// The core umbrella and nothing else.
#include <dspy/dspy.hpp>

int main() {}
