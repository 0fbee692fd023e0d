// A shared library with no Qt plugin metadata at all.
extern "C" int omnilab_test_not_a_plugin() { return 7; }
