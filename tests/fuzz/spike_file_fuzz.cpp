// libFuzzer target: the bytes are an HDF5 file, written to a temporary file and read as a SONATA
// spike file with myelin's HDF5 reader API (spike_reader.hpp). myelin::io_error is the expected
// answer to a bad file; any other exception, a crash, a hang or a sanitizer report is a bug.
// (The checkpoint reader gets a target of the same shape.)
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "harness.hpp"
#include "spike_reader.hpp"

namespace {

std::filesystem::path scratch_file() {
  const char* dir = std::getenv("TMPDIR");
  return std::filesystem::path(dir != nullptr && *dir != '\0' ? dir : "/tmp") /
         ("myelin-spike-fuzz-" + std::to_string(getpid()) + ".h5");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const std::filesystem::path path = scratch_file();
  std::FILE* out = std::fopen(path.c_str(), "wb");
  if (out == nullptr || (size > 0 && std::fwrite(data, 1, size, out) != size) || std::fclose(out) != 0)
    myelin::fuzz::bug("cannot write " + path.string());
  try {
    (void)myelin::fuzz::read_spike_file(path, [](const std::string& what) { myelin::fuzz::bug(what); });
  } catch (const myelin::io_error&) {
    // refused with a one-line message: fine
  }
  std::filesystem::remove(path);
  return 0;
}
