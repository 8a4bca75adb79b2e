cmake_minimum_required(VERSION 3.22)
# Script mode (cmake -DSOURCE_DIR=... -DCLANG_FORMAT=... -P): fails, naming the files, when a C++
# source of the project is not formatted as .clang-format says (clang-format --dry-run -Werror).
file(GLOB_RECURSE _files
     ${SOURCE_DIR}/core/*.h ${SOURCE_DIR}/core/*.cpp ${SOURCE_DIR}/ui/*.h ${SOURCE_DIR}/ui/*.cpp
     ${SOURCE_DIR}/app/*.h ${SOURCE_DIR}/app/*.cpp ${SOURCE_DIR}/tests/*.h ${SOURCE_DIR}/tests/*.cpp)
list(FILTER _files EXCLUDE REGEX "/tests/data/")
# One clang-format for all files (a process per file took most of a minute); it names each
# unformatted file in its "file:line:col: error:" lines.
execute_process(COMMAND ${CLANG_FORMAT} --dry-run -Werror --style=file ${_files}
                RESULT_VARIABLE _rc OUTPUT_QUIET ERROR_VARIABLE _err)
set(_bad "")
if(NOT _rc EQUAL 0)
  string(REGEX MATCHALL "[^\n]+:[0-9]+:[0-9]+: error:" _hits "${_err}")
  set(_seen "")
  foreach(_hit IN LISTS _hits)
    string(REGEX REPLACE ":[0-9]+:[0-9]+: error:$" "" _f "${_hit}")
    if(NOT _f IN_LIST _seen)
      list(APPEND _seen ${_f})
      file(RELATIVE_PATH _rel ${SOURCE_DIR} ${_f})
      string(APPEND _bad "\n  ${_rel}")
    endif()
  endforeach()
  if(NOT _bad)
    message(FATAL_ERROR "clang-format failed:\n${_err}")
  endif()
endif()
if(_bad)
  message(FATAL_ERROR "not formatted (run: clang-format -i FILE):${_bad}")
endif()
list(LENGTH _files _n)
message(STATUS "${_n} C++ files formatted")
