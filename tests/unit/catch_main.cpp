// The one translation unit that holds Catch2's runner (compiling it is slow).
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>
