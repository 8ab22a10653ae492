// libFuzzer target: --set overrides. The bytes are split at NUL bytes into up to 16 override
// strings ("section.key=value"), applied to a small valid config that has every section kind
// (harness.hpp). A config_error is the expected answer to bad input; any other exception, a
// crash, a hang, a sanitizer report, or a resolved config that does not read back the same is
// a bug.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "harness.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto overrides =
      myelin::fuzz::split_overrides(std::string_view(reinterpret_cast<const char*>(data), size));
  myelin::run_spec spec;
  try {
    spec = myelin::parse_config(myelin::fuzz::overrides_base_config, "base.ini", overrides);
  } catch (const myelin::config_error&) {
    return 0;  // refused with a one-line message: fine
  }
  if (const std::string problem = myelin::fuzz::round_trip_problem(spec); !problem.empty())
    myelin::fuzz::bug(problem);
  return 0;
}
