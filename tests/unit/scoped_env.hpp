// Sets an environment variable for one scope, then unsets it (tests of
// checks that read the process environment: cluster secret, TLS
// passphrase).
#pragma once

#include <cstdlib>
#include <string>

#include <doctest/doctest.h>

namespace test_support {

struct scoped_env {
  scoped_env(std::string name, const std::string& value) : name_(std::move(name)) {
    REQUIRE(::setenv(name_.c_str(), value.c_str(), 1) == 0);
  }
  ~scoped_env() { ::unsetenv(name_.c_str()); }
  scoped_env(const scoped_env&) = delete;
  scoped_env& operator=(const scoped_env&) = delete;

 private:
  std::string name_;
};

}  // namespace test_support
