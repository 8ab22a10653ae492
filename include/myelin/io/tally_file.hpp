// tallies.h5: where the run's time, bytes and energy went, per rank, per phase and per window of
// model time. The layout is documented in README.md ("Tallies") and at the top of
// src/io/tally_file.cpp.
#pragma once

#include <filesystem>

#include "myelin/comm/communicator.hpp"
#include "myelin/tallies/tally_report.hpp"

namespace myelin {

// Collective: writes `path` (under <path>.partial, renamed when whole). A tallies file already
// at `path` (an earlier process of the same run, before a restart) is kept as tallies-1.h5,
// tallies-2.h5, ... in the order they were written.
void write_tally_file(const communicator& comm, const std::filesystem::path& path, const tally_report& report);

}  // namespace myelin
