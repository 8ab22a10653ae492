// SIGUSR1 and SIGTERM (what Slurm sends before a time limit or on preemption) ask the run to take
// a checkpoint at the next communication interval and exit with exit_checkpointed_resume.
#pragma once

#include <csignal>

namespace myelin::cli {

// Installs the handlers; returns the flag they set (a second signal changes nothing more).
const volatile std::sig_atomic_t* install_stop_handlers();

}  // namespace myelin::cli
