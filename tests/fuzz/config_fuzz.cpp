// libFuzzer target: the bytes are the text of a config file, given to myelin::parse_config.
// A config_error is the expected answer to bad input; any other exception, a crash, a hang, a
// sanitizer report, or a resolved config that does not read back the same is a bug.
#include <cstddef>
#include <cstdint>
#include <string>

#include "harness.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  myelin::run_spec spec;
  try {
    spec = myelin::parse_config(text, "fuzz.ini");
  } catch (const myelin::config_error&) {
    return 0;  // refused with a one-line message: fine
  }
  if (const std::string problem = myelin::fuzz::round_trip_problem(spec); !problem.empty())
    myelin::fuzz::bug(problem);
  return 0;
}
