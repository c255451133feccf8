// Configure-time probe: does this clang++ have the libFuzzer and sanitizer runtimes?
#include <cstddef>
#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t*, std::size_t) { return 0; }
