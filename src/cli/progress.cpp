#include "cli/progress.hpp"

#include <unistd.h>

namespace myelin::cli {

progress_line::progress_line(std::string label, double start_fraction)
    : label_(std::move(label)), start_fraction_(start_fraction), tty_(isatty(fileno(stderr)) != 0),
      start_(clock::now()), last_print_(start_) {}

void progress_line::update(double fraction, const std::string& detail) {
  if (finished_) return;
  const auto now = clock::now();
  const bool done = fraction >= 1.0;
  const double since = std::chrono::duration<double>(now - last_print_).count();
  if (!done && since < (tty_ ? 0.5 : 10.0)) return;
  last_print_ = now;
  const double elapsed = std::chrono::duration<double>(now - start_).count();
  const double progress = fraction - start_fraction_;
  const double left = progress > 0 ? elapsed * (1.0 - fraction) / progress : 0.0;
  std::fprintf(stderr, "%s[myelin] %s %5.1f%%%s%s  elapsed %.1f s  left ~%.1f s%s", tty_ ? "\r" : "",
               label_.c_str(), 100.0 * fraction, detail.empty() ? "" : "  ", detail.c_str(), elapsed, left,
               tty_ && !done ? "" : "\n");
  std::fflush(stderr);
  printed_ = true;
  finished_ = done;
}

}  // namespace myelin::cli
