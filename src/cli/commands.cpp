#include "cli/commands.hpp"

#include <boost/program_options.hpp>

#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include "cli/run_command.hpp"

namespace myelin::cli {

namespace po = boost::program_options;

namespace {

const char* const usage_text =
    "usage: myelin <command> [options]\n"
    "\n"
    "commands:\n"
    "  run CONFIG     build the network of CONFIG and simulate it; output in <output.dir>/<simulation.name>\n"
    "  check CONFIG   validate CONFIG and print the network's size and memory estimate; runs nothing\n"
    "\n"
    "exit codes: 0 done, 1 error during the run, 2 bad command line or config,\n"
    "            75 stopped by SIGUSR1/SIGTERM after writing a checkpoint (resume with --restart)\n"
    "\n"
    "Run under MPI with e.g. `mpirun -np 4 myelin run configs/brunel.ini --threads 2`.\n";

po::options_description run_options() {
  po::options_description o("options of run and check");
  o.add_options()
    ("set,s", po::value<std::vector<std::string>>()->composing(),
     "override a config key: --set section.key=value (repeatable), e.g. --set simulation.t_stop_ms=500")
    ("threads,t", po::value<int>(), "OpenMP threads per rank (overrides simulation.threads)")
    ("force,f", "replace an existing output directory of a previous run")
    ("restart,r", po::value<std::string>(),
     "continue the run from this checkpoint (any number of ranks and threads), appending to its output")
    ("checkpoint-at-end", "write a checkpoint when the run completes, so it can be extended later")
    ("quiet,q", "no progress line");
  return o;
}

po::options_description general_options() {
  po::options_description o("general options");
  o.add_options()("help,h", "print this help and exit")("version,V", "print the version and exit");
  return o;
}

}  // namespace

int dispatch(int argc, char** argv, const communicator& world) {
  po::options_description all;
  all.add(general_options()).add(run_options());
  po::options_description hidden;
  hidden.add_options()("command", po::value<std::string>())("config", po::value<std::string>());
  po::options_description cmdline;
  cmdline.add(all).add(hidden);
  po::positional_options_description positional;
  positional.add("command", 1).add("config", 1);

  po::variables_map vm;
  try {
    po::store(po::command_line_parser(argc, argv).options(cmdline).positional(positional).run(), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    throw usage_error(e.what());
  }

  if (vm.count("help")) {
    if (world.rank() == 0) std::cout << usage_text << '\n' << all;
    return 0;
  }
  if (vm.count("version")) {
    if (world.rank() == 0) std::cout << "myelin " << MYELIN_VERSION << '\n';
    return 0;
  }
  if (!vm.count("command")) throw usage_error("no command given");
  const std::string command = vm["command"].as<std::string>();
  if (command != "run" && command != "check") throw usage_error("unknown command '" + command + "'");
  if (!vm.count("config")) throw usage_error(command + ": no config file given");

  run_options_values opts;
  opts.config_path = vm["config"].as<std::string>();
  if (vm.count("set")) opts.overrides = vm["set"].as<std::vector<std::string>>();
  if (vm.count("threads")) {
    opts.threads = vm["threads"].as<int>();
    if (opts.threads < 1) throw usage_error("--threads: expected an integer >= 1, got " + std::to_string(opts.threads));
  }
  opts.force = vm.count("force") > 0;
  if (vm.count("restart")) opts.restart_path = vm["restart"].as<std::string>();
  opts.checkpoint_at_end = vm.count("checkpoint-at-end") > 0;
  if (!opts.restart_path.empty() && opts.force) throw usage_error("--restart continues a run's output; it cannot be combined with --force");
  opts.quiet = vm.count("quiet") > 0;
  return command == "run" ? run_command(opts, world) : check_command(opts, world);
}

}  // namespace myelin::cli
