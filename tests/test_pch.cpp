// Anchors the tests' precompiled headers (reflab_test_pch_qt, reflab_test_pch_torch); holds no
// code.
