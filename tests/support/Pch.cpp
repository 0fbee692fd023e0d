// The translation unit that owns the engine tests' precompiled header (tests/CMakeLists.txt):
// the header itself is force-included by CMake; nothing else is compiled here.
