// Preloaded into sanitizer runs (tools/test-sanitized): dlclose() does nothing, so that the
// plugins Open MPI loads (mca_*.so) and unloads at MPI_Finalize keep their names in leak
// reports and lsan.supp can match them. Never part of a real build.
int dlclose(void* handle) {
  (void)handle;
  return 0;
}
