// The `myelin` executable: parses the command line and dispatches to a command.
#include <cstdio>
#include <exception>
#include <string>

#include "cli/commands.hpp"
#include "myelin/comm/communicator.hpp"
#include "myelin/comm/mpi_environment.hpp"
#include "myelin/config/config.hpp"

int main(int argc, char** argv) {
  try {
    myelin::mpi_environment mpi(argc, argv);
    myelin::communicator world;
    int code = 0;
    try {
      code = myelin::cli::dispatch(argc, argv, world);
    } catch (const myelin::cli::usage_error& e) {
      // Same arguments on every rank, so every rank fails alike: one message, a clean exit.
      if (world.rank() == 0) std::fprintf(stderr, "myelin: %s\nTry 'myelin --help'.\n", e.what());
      return 2;
    } catch (const myelin::config_error& e) {
      if (world.rank() == 0) std::fprintf(stderr, "myelin: error: %s\n", e.what());
      return 2;
    } catch (const std::exception& e) {
      // Possibly on this rank alone: report it and take the whole job down, so no rank waits
      // forever in a collective.
      std::fprintf(stderr, "myelin: error (rank %d): %s\n", world.rank(), e.what());
      std::fflush(stderr);
      if (world.size() > 1) world.abort(1);
      return 1;
    }
    return code;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "myelin: error: %s\n", e.what());
    return 1;
  }
}
