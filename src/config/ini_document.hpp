// The INI text as sections of key = value entries, each remembering where it came from
// ("configs/x.ini:12" or "--set projection.EE.weight=-0.5") so errors can point there.
// Nothing here knows the schema; config.cpp checks names and values.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace myelin::config_detail {

struct ini_entry {
  std::string key;
  std::string value;   // trimmed, comment removed
  std::string origin;  // "<file>:<line>" or "--set <override>"
};

struct ini_section {
  std::string name;                // "simulation", "population.L23E"
  std::string origin;              // where the header is, or the --set that created the section
  std::vector<ini_entry> entries;  // in file order; overrides replace in place or append

  const ini_entry* find(std::string_view key) const;
};

struct ini_document {
  std::string file_name;              // for messages that have no line ("<file>: [simulation]: missing ...")
  std::vector<ini_section> sections;  // in file order; sections created by --set come last

  const ini_section* find(std::string_view name) const;
};

// Comments start at '#' or ';'. Lines are parsed by Boost.Program_options; a light scan of our
// own adds line numbers and rejects what Boost would silently accept (a repeated section or
// key, a key before the first section). Throws config_error.
ini_document read_ini(std::string_view text, const std::string& file_name);

// "section.key=value", split at the first '=' and, left of it, at the last '.' (section names
// contain dots: projection.EE.weight). Creates the entry or section when absent; does not check
// the names (config.cpp does, with the override as origin). Throws config_error on bad syntax.
void apply_override(ini_document& document, const std::string& override_text);

}  // namespace myelin::config_detail
