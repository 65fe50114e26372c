// A fresh directory under the system temp dir for one test, removed with
// everything in it when the test ends. The name carries the pid and a
// random number, so parallel test processes never share one.
#pragma once

#include <unistd.h>

#include <filesystem>
#include <random>
#include <string>

namespace test_support {

struct temp_dir {
  std::filesystem::path path;

  explicit temp_dir(const std::string& prefix) {
    std::random_device rd;
    path = std::filesystem::temp_directory_path()
           / ("agentgraph-" + prefix + "-" + std::to_string(::getpid()) + "-"
              + std::to_string(rd()));
    std::filesystem::create_directories(path);
  }
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;
  ~temp_dir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
};

}  // namespace test_support
