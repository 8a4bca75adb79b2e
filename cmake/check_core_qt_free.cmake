# Script mode (cmake -DSOURCE_DIR=... -P): the same check as CoreQtFree.cmake, run by ctest.
set(CMAKE_SOURCE_DIR ${SOURCE_DIR})
include(${SOURCE_DIR}/cmake/CoreQtFree.cmake)
message(STATUS "core/ is free of Qt headers")
