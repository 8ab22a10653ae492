// The commands of the `myelin` executable.
#pragma once

#include <stdexcept>

#include "myelin/comm/communicator.hpp"

namespace myelin::cli {

// A command-line mistake: printed with a hint to --help, exit code 2.
class usage_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Runs the command named in argv; returns the process exit code.
int dispatch(int argc, char** argv, const communicator& world);

}  // namespace myelin::cli
