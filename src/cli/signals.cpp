#include "cli/signals.hpp"

#include <cstring>

namespace myelin::cli {

namespace {
// A signal handler can only reach static storage; this flag is the one such variable.
volatile std::sig_atomic_t stop_requested = 0;

extern "C" void request_stop(int) { stop_requested = 1; }
}  // namespace

const volatile std::sig_atomic_t* install_stop_handlers() {
  struct sigaction action;
  std::memset(&action, 0, sizeof action);
  action.sa_handler = request_stop;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESTART;
  sigaction(SIGUSR1, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
  return &stop_requested;
}

}  // namespace myelin::cli
