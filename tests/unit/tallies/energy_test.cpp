// The energy model against its formula, the presets, and the RAPL reader on a fake powercap
// folder (zones, subzones that must not be added, wraparound, missing or unreadable counters).
#include "myelin/tallies/energy.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

namespace myelin {
namespace {

namespace fs = std::filesystem;

TEST(EnergyModel, EqualsTheFormulaTermByTerm) {
  const energy_parameters p{.watts_per_active_core = 7.0, .idle_watts_per_node = 100.0, .joules_per_byte = 2e-9,
                            .joules_per_synaptic_event = 3e-10};
  EXPECT_DOUBLE_EQ(modeled_energy_joules(p, 10.0, 0.0, 0.0, 0.0), 70.0);
  EXPECT_DOUBLE_EQ(modeled_energy_joules(p, 0.0, 2.5, 0.0, 0.0), 250.0);
  EXPECT_DOUBLE_EQ(modeled_energy_joules(p, 0.0, 0.0, 1e9, 0.0), 2.0);
  EXPECT_DOUBLE_EQ(modeled_energy_joules(p, 0.0, 0.0, 0.0, 1e10), 3.0);
  EXPECT_DOUBLE_EQ(modeled_energy_joules(p, 10.0, 2.5, 1e9, 1e10), 70.0 + 250.0 + 2.0 + 3.0);
}

TEST(EnergyModel, PresetsHaveTheDocumentedFigures) {
  ASSERT_NE(find_energy_preset("cpu-node"), nullptr);
  EXPECT_EQ(energy_presets().front().name, "cpu-node");  // the default comes first
  EXPECT_DOUBLE_EQ(find_energy_preset("spinnaker")->parameters.joules_per_synaptic_event, 5.9e-6);
  EXPECT_DOUBLE_EQ(find_energy_preset("spinnaker-realtime")->parameters.joules_per_synaptic_event, 0.6e-6);
  EXPECT_DOUBLE_EQ(find_energy_preset("loihi")->parameters.joules_per_synaptic_event, 23.6e-12);
  EXPECT_DOUBLE_EQ(find_energy_preset("brain")->parameters.joules_per_synaptic_event, 2e-13);
  EXPECT_EQ(find_energy_preset("gpu"), nullptr);
  for (const auto& p : energy_presets()) EXPECT_FALSE(p.what.empty()) << p.name;
}

TEST(EnergyModel, BrainPerEventScalesInverselyWithRate) {
  EXPECT_DOUBLE_EQ(brain_joules_per_synaptic_event(1.0), 20.0 / 1e14);
  EXPECT_DOUBLE_EQ(brain_joules_per_synaptic_event(4.0), 5.0 / 1e14);
  EXPECT_EQ(brain_joules_per_synaptic_event(0.0), 0.0);
}

class FakePowercap : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("myelin-powercap-" + std::to_string(::getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  void zone(const std::string& name, std::uint64_t energy_uj, std::uint64_t range_uj = 262143328850) {
    fs::create_directories(dir_ / name);
    std::ofstream(dir_ / name / "energy_uj") << energy_uj << "\n";
    std::ofstream(dir_ / name / "max_energy_range_uj") << range_uj << "\n";
  }
  fs::path dir_;
};

TEST_F(FakePowercap, AddsPackageZonesButNotTheirSubzones) {
  zone("intel-rapl:0", 1'000'000);
  zone("intel-rapl:0:0", 500'000);  // the cores of package 0: already in package 0
  zone("intel-rapl:1", 2'000'000);
  powercap_meter meter(dir_);
  ASSERT_TRUE(meter.available()) << meter.problem();
  EXPECT_EQ(meter.joules(), 0.0);
  zone("intel-rapl:0", 4'000'000);
  zone("intel-rapl:0:0", 9'000'000);
  zone("intel-rapl:1", 2'500'000);
  EXPECT_DOUBLE_EQ(meter.joules(), 3.5);
  zone("intel-rapl:1", 3'500'000);
  EXPECT_DOUBLE_EQ(meter.joules(), 4.5);  // cumulative
}

TEST_F(FakePowercap, CountsThroughAWraparound) {
  zone("intel-rapl:0", 900, 1000);
  powercap_meter meter(dir_);
  ASSERT_TRUE(meter.available());
  zone("intel-rapl:0", 100, 1000);  // wrapped: 100 uJ to the top, 100 after
  EXPECT_DOUBLE_EQ(meter.joules(), 200e-6);
}

TEST_F(FakePowercap, MissingOrUnreadableIsUnavailableWithAReason) {
  {
    powercap_meter meter(dir_ / "nowhere");
    EXPECT_FALSE(meter.available());
    EXPECT_NE(meter.problem().find("does not exist"), std::string::npos) << meter.problem();
    EXPECT_EQ(meter.joules(), 0.0);
  }
  {
    powercap_meter meter(dir_);  // no zones
    EXPECT_FALSE(meter.available());
    EXPECT_NE(meter.problem().find("no intel-rapl"), std::string::npos) << meter.problem();
  }
  {
    fs::create_directories(dir_ / "intel-rapl:0");  // a zone without counters (as for non-root users)
    powercap_meter meter(dir_);
    EXPECT_FALSE(meter.available());
    EXPECT_NE(meter.problem().find("not readable"), std::string::npos) << meter.problem();
  }
}

}  // namespace
}  // namespace myelin
