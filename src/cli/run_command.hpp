// `myelin run` and `myelin check`.
#pragma once

#include <string>
#include <vector>

#include "myelin/comm/communicator.hpp"

namespace myelin::cli {

struct run_options_values {
  std::string config_path;
  std::vector<std::string> overrides;
  int threads = 0;  // 0: from the config
  bool force = false;
  bool quiet = false;
  std::string restart_path;  // --restart: continue from this checkpoint
  bool checkpoint_at_end = false;
};

int run_command(const run_options_values& opts, const communicator& world);
int check_command(const run_options_values& opts, const communicator& world);

}  // namespace myelin::cli
