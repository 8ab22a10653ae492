// Room for output, checked before it is written. Parallel HDF5 (1.10) cannot recover from a write
// that fails inside a collective operation: the ranks leave it at different points and wait for
// each other forever (seen with a full disk: one rank in a barrier of H5Fflush, the other in its
// broadcast), and Open MPI 4.1's MPI-IO does not even report the failed write to the caller.
// So myelin refuses to write when the room is clearly missing, on every rank alike, with a clear
// error, instead of starting a write that may hang the job. This is a guard, not a guarantee: a
// disk filled by someone else between the check and the write can still hit the failure.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

#include "myelin/comm/communicator.hpp"

namespace myelin {

// Free space kept in reserve below which output is refused: more than one flush of any run
// writes (HDF5 metadata, a few chunks, report rows).
inline constexpr std::uint64_t output_reserve_bytes = std::uint64_t(64) << 20;

// Collective. Rank 0 checks that the file system holding `dir` has at least `reserve_bytes` free
// for an unprivileged user (statvfs), and that no file in `dir` is within `reserve_bytes` of the
// process's file-size limit (RLIMIT_FSIZE, ulimit -f); every rank then throws the same io_error
// (one line: the directory, what is missing) or returns.
void require_output_space(const communicator& comm, const std::filesystem::path& dir,
                          std::uint64_t reserve_bytes = output_reserve_bytes);

// Collective. Before a new file of about `file_bytes` is written whole into the existing
// directory `dir` (a checkpoint): rank 0 checks that the file system holding `dir` has room for
// it and `reserve_bytes` besides (the output still to be flushed), and that the file-size limit
// (ulimit -f) allows a file of that size; every rank then throws the same io_error (one line:
// the directory, what is missing, and `what`, the file not written) or returns.
void require_space_for_file(const communicator& comm, const std::filesystem::path& dir, std::uint64_t file_bytes,
                            const std::string& what, std::uint64_t reserve_bytes = output_reserve_bytes);

}  // namespace myelin
