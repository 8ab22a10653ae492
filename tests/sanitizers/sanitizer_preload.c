// Preloaded into the sanitizer runs of tools/test-sanitized, never part of a real build. Makes
// leak reports name the code that really lost the memory:
//  - dlclose() does nothing, so the plugins Open MPI loads (mca_*.so) and unloads at MPI_Finalize
//    keep their names in leak stacks, and lsan.supp can match functions inside them;
//  - after MPI_Init, HDF5's free lists are turned off: HDF5 otherwise keeps freed blocks and hands
//    them out again without malloc, so a block lost on one path is reported with the stack of
//    whatever first allocated it (e.g. the creation of an earlier, long-closed file).
#define _GNU_SOURCE
#include <dlfcn.h>

int dlclose(void* handle) {
  (void)handle;
  return 0;
}

static void no_hdf5_free_lists(void) {
  typedef int (*limits_fn)(int, int, int, int, int, int);
  const limits_fn set_limits = (limits_fn)dlsym(RTLD_DEFAULT, "H5set_free_list_limits");
  if (set_limits != 0) set_limits(0, 0, 0, 0, 0, 0);
}

int MPI_Init(int* argc, char*** argv) {
  typedef int (*init_fn)(int*, char***);
  const int status = ((init_fn)dlsym(RTLD_NEXT, "MPI_Init"))(argc, argv);
  no_hdf5_free_lists();
  return status;
}

int MPI_Init_thread(int* argc, char*** argv, int required, int* provided) {
  typedef int (*init_thread_fn)(int*, char***, int, int*);
  const int status = ((init_thread_fn)dlsym(RTLD_NEXT, "MPI_Init_thread"))(argc, argv, required, provided);
  no_hdf5_free_lists();
  return status;
}
