// expect-error: Args::defaults names a field that is not in the argument struct
// expect-single-error
#include <dspy/adapters/types/tool.hpp>

struct WeatherArgs {
  std::string city;
  std::string unit = "celsius";
#ifdef DSPY_COMPILE_FAIL_CONTROL
  static constexpr std::string_view defaults[] = {"unit"};
#else
  static constexpr std::string_view defaults[] = {"units"};
#endif
};

int main() {
  dspy::Tool weather = dspy::tool<"get_weather">([](WeatherArgs a) { return a.city; }, "Weather for a city.");
  return weather.args.contains("unit") ? 0 : 1;
}
