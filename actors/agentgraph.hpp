// The public embedding header: everything an application needs to build a
// Runtime, spawn agents and call them from ordinary code.
#pragma once
#include "runtime/error.hpp"
#include "runtime/value.hpp"
