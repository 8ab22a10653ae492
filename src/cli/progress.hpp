// A progress line on stderr (rank 0): percent, elapsed and estimated time left. On a terminal it
// rewrites itself a few times a second; in a log file it adds a line every 10 s.
#pragma once

#include <chrono>
#include <cstdio>
#include <string>

namespace myelin::cli {

class progress_line {
 public:
  // label: what is in progress ("building", "simulating"); start_fraction: where this process
  // started (a restarted run), so the estimate uses only this process's pace.
  progress_line(std::string label, double start_fraction = 0.0);

  // detail: appended after the percent, e.g. "350.0 of 1000.0 ms".
  void update(double fraction, const std::string& detail = "");

 private:
  using clock = std::chrono::steady_clock;
  std::string label_;
  double start_fraction_;
  bool tty_;
  clock::time_point start_, last_print_;
  bool printed_ = false;
  bool finished_ = false;
};

}  // namespace myelin::cli
