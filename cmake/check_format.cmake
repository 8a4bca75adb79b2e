cmake_minimum_required(VERSION 3.22)
# Script mode (cmake -DSOURCE_DIR=... -DCLANG_FORMAT=... -P): fails, naming the files, when a C++
# source of the project is not formatted as .clang-format says (clang-format --dry-run -Werror).
file(GLOB_RECURSE _files
     ${SOURCE_DIR}/core/*.h ${SOURCE_DIR}/core/*.cpp ${SOURCE_DIR}/ui/*.h ${SOURCE_DIR}/ui/*.cpp
     ${SOURCE_DIR}/app/*.h ${SOURCE_DIR}/app/*.cpp ${SOURCE_DIR}/tests/*.h ${SOURCE_DIR}/tests/*.cpp)
list(FILTER _files EXCLUDE REGEX "/tests/data/")
set(_bad "")
foreach(_f IN LISTS _files)
  execute_process(COMMAND ${CLANG_FORMAT} --dry-run -Werror --style=file ${_f}
                  RESULT_VARIABLE _rc OUTPUT_QUIET ERROR_QUIET)
  if(NOT _rc EQUAL 0)
    file(RELATIVE_PATH _rel ${SOURCE_DIR} ${_f})
    string(APPEND _bad "\n  ${_rel}")
  endif()
endforeach()
if(_bad)
  message(FATAL_ERROR "not formatted (run: clang-format -i FILE):${_bad}")
endif()
list(LENGTH _files _n)
message(STATUS "${_n} C++ files formatted")
