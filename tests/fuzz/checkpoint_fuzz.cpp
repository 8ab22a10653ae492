// libFuzzer target: the bytes are a checkpoint file, written to a temporary file and read as a
// restart reads it, with myelin::checkpoint_reader (checkpoint_reading.hpp) on one MPI rank (the
// reader validates on rank 0 with plain HDF5, then opens the file collectively through MPI-IO).
// myelin::checkpoint_error is the expected answer to a bad file; any other exception, a crash, a
// hang or a sanitizer report is a bug.
#include <mpi.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "checkpoint_reading.hpp"
#include "harness.hpp"

namespace {

std::filesystem::path scratch_file() {
  const char* dir = std::getenv("TMPDIR");
  return std::filesystem::path(dir != nullptr && *dir != '\0' ? dir : "/tmp") /
         ("myelin-checkpoint-fuzz-" + std::to_string(getpid()) + ".h5");
}

}  // namespace

// MPI is started once (a singleton: one rank, no mpirun) and never finalized: libFuzzer ends the
// process with exit(), which is allowed without MPI_Finalize.
extern "C" int LLVMFuzzerInitialize(int*, char***) {
  int provided = 0;
  if (MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided) != MPI_SUCCESS)
    myelin::fuzz::bug("MPI_Init_thread failed");
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const std::filesystem::path path = scratch_file();
  static const myelin::communicator comm;
  std::FILE* out = std::fopen(path.c_str(), "wb");
  if (out == nullptr || (size > 0 && std::fwrite(data, 1, size, out) != size) || std::fclose(out) != 0)
    myelin::fuzz::bug("cannot write " + path.string());
  try {
    (void)myelin::fuzz::read_checkpoint_file(comm, path, [](const std::string& what) { myelin::fuzz::bug(what); });
  } catch (const myelin::checkpoint_error& error) {
    // refused with a one-line message (what a failed restart prints): fine
    if (std::string(error.what()).find('\n') != std::string::npos)
      myelin::fuzz::bug(std::string("a checkpoint_error of several lines: ") + error.what());
  }
  std::filesystem::remove(path);
  return 0;
}
