// Anchors the tests precompiled header (reflab_test_pch); holds no code.
