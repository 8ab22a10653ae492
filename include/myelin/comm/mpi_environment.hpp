// RAII guard for MPI: initializes with the thread level myelin needs (only the main thread calls
// MPI) and finalizes on scope exit. Construct exactly once, in main().
#pragma once

namespace myelin {

class mpi_environment {
 public:
  mpi_environment(int& argc, char**& argv);
  ~mpi_environment();
  mpi_environment(const mpi_environment&) = delete;
  mpi_environment& operator=(const mpi_environment&) = delete;
};

}  // namespace myelin
