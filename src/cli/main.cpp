// The `myelin` executable: parses the command line and dispatches to a command.
#include <mpi.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <memory>
#include <string>

#include "cli/commands.hpp"
#include "myelin/comm/communicator.hpp"
#include "myelin/comm/mpi_environment.hpp"
#include "myelin/config/config.hpp"

namespace {

// Errors that may have happened on one rank alone, in a job of several ranks: report and take the
// whole job down at once. Such errors are deliberately NOT caught (see main): when no handler
// matches, the C++ runtime calls std::terminate without unwinding the stack, so no destructor
// runs. Unwinding would run destructors that close parallel HDF5 files, which is collective: the
// other ranks, busy elsewhere or failing at another point, never join, and the job hangs instead
// of ending (seen with a full disk: two ranks blocked in H5Fclose in ~spike_writer, each in a
// different collective).
[[noreturn]] void report_and_abort_job() {
  int rank = -1;
  int initialized = 0, finalized = 0;
  MPI_Initialized(&initialized);
  MPI_Finalized(&finalized);
  if (initialized && !finalized) MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  std::string what = "unexpected termination";
  if (const std::exception_ptr error = std::current_exception()) {
    try {
      std::rethrow_exception(error);
    } catch (const std::exception& e) {
      what = e.what();
    } catch (...) {
      what = "unknown exception";
    }
  }
  std::fprintf(stderr, "myelin: error (rank %d): %s\n", rank, what.c_str());
  std::fflush(stderr);
  if (initialized && !finalized) MPI_Abort(MPI_COMM_WORLD, 1);
  std::_Exit(1);
}

// A failed read or write on an open MPI-IO file (output files are written collectively through
// parallel HDF5): ends the whole job at once. HDF5 cannot recover from such an error in a
// collective operation: the ranks leave it at different points and wait for each other forever
// (seen with a full disk: one rank in a barrier of H5Fflush, the other in its broadcast). Errors
// opening a file (file == MPI_FILE_NULL) are left to HDF5, which reports them as io_error.
// Open MPI 4.1's own MPI-IO (ompio) does not report a failed write to its caller at all, so there
// the guard of myelin/io/output_space.hpp does the work; this handler covers the MPI-IO layers
// that do report (ROMIO, later Open MPI).
void abort_on_file_error(MPI_File* file, int* code, ...) {
  const int saved_errno = errno;
  if (file == nullptr || *file == MPI_FILE_NULL) return;  // the MPI call returns the error code
  int rank = -1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  char mpi_reason[MPI_MAX_ERROR_STRING] = {};
  int length = 0;
  MPI_Error_string(*code, mpi_reason, &length);
  std::fprintf(stderr, "myelin: error (rank %d): cannot write or read an output file: %s%s%s; stopping the job\n",
               rank, saved_errno != 0 ? std::strerror(saved_errno) : "", saved_errno != 0 ? ", " : "", mpi_reason);
  std::fflush(stderr);
  MPI_Abort(MPI_COMM_WORLD, 1);
}

}  // namespace

int main(int argc, char** argv) {
  // A file-size limit (ulimit -f) reached while writing output: without this the kernel kills
  // the process with SIGXFSZ; ignored, the write fails with EFBIG and the error is reported.
  std::signal(SIGXFSZ, SIG_IGN);
  std::unique_ptr<myelin::mpi_environment> mpi;
  try {
    mpi = std::make_unique<myelin::mpi_environment>(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "myelin: error: %s\n", e.what());
    return 1;
  }
  myelin::communicator world;
  if (world.size() > 1) {
    std::set_terminate(report_and_abort_job);
    // The default error handler of MPI-IO files opened from now on.
    MPI_Errhandler file_errors;
    MPI_File_create_errhandler(abort_on_file_error, &file_errors);
    MPI_File_set_errhandler(MPI_FILE_NULL, file_errors);
    MPI_Errhandler_free(&file_errors);
    try {
      return myelin::cli::dispatch(argc, argv, world);
    } catch (const myelin::cli::usage_error& e) {
      // Same arguments on every rank, so every rank fails alike: one message, a clean exit.
      if (world.rank() == 0) std::fprintf(stderr, "myelin: %s\nTry 'myelin --help'.\n", e.what());
      return 2;
    } catch (const myelin::config_error& e) {
      if (world.rank() == 0) std::fprintf(stderr, "myelin: error: %s\n", e.what());
      return 2;
    }
    // Any other exception has no handler here, on purpose: report_and_abort_job.
  }
  // One rank: nothing can wait for another rank, so errors unwind (closing files) and return.
  try {
    return myelin::cli::dispatch(argc, argv, world);
  } catch (const myelin::cli::usage_error& e) {
    std::fprintf(stderr, "myelin: %s\nTry 'myelin --help'.\n", e.what());
    return 2;
  } catch (const myelin::config_error& e) {
    std::fprintf(stderr, "myelin: error: %s\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "myelin: error (rank 0): %s\n", e.what());
    return 1;
  }
}
