// Writes the seed corpora of every fuzz target: write_seeds <golden dir> <out dir>
// makes <out dir>/<target>/seed-<n>, one file per seed.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "targets.hpp"

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s <golden dir> <out dir>\n", argv[0]);
    return 2;
  }
  for (const auto& [target, inputs] : fuzz::seeds(argv[1])) {
    const std::filesystem::path dir = std::filesystem::path(argv[2]) / target;
    std::filesystem::create_directories(dir);
    for (std::size_t i = 0; i < inputs.size(); ++i)
      std::ofstream(dir / ("seed-" + std::to_string(i)), std::ios::binary) << inputs[i];
    std::printf("%s: %zu seeds\n", target.c_str(), inputs.size());
  }
  return 0;
}
