// Reading a run's INI config (Boost.Program_options) with --set overrides into a run_spec.
#pragma once

#include <stdexcept>
#include <string>
#include <vector>

#include "myelin/config/spec.hpp"

namespace myelin {

// A user error in a config or an override. what() is one line naming the file (and line where
// known) or "--set", the key, the offending value and what was expected.
class config_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// overrides: "section.key=value" strings, applied after the file (later ones win).
// Throws config_error on any unknown section/key, missing required key, bad type or range.
run_spec load_config(const std::string& path, const std::vector<std::string>& overrides = {});

// Same, from INI text in memory (name used in messages), for tests and tools.
run_spec parse_config(const std::string& text, const std::string& name,
                      const std::vector<std::string>& overrides = {});

}  // namespace myelin
