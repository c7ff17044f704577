// Every public header.
#include <dspy/all.hpp>

int main() {}
