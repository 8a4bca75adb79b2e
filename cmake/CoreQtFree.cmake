# Fails configuration when any file under core/ includes a Qt header: core must build on a
# machine that has only a LibTorch (e.g. a CUDA server). tests/ runs the same check as a test.
if(CMAKE_SCRIPT_MODE_FILE)
  file(GLOB_RECURSE _reflab_core_files ${CMAKE_SOURCE_DIR}/core/*.h ${CMAKE_SOURCE_DIR}/core/*.cpp)
else()
  file(GLOB_RECURSE _reflab_core_files CONFIGURE_DEPENDS
       ${CMAKE_SOURCE_DIR}/core/*.h ${CMAKE_SOURCE_DIR}/core/*.cpp)
endif()
foreach(_f IN LISTS _reflab_core_files)
  file(STRINGS ${_f} _qt_lines REGEX "^[ \t]*#[ \t]*include[ \t]*[<\"](Q[A-Za-z]+|Qt[A-Za-z]*/)")
  if(_qt_lines)
    message(FATAL_ERROR "core/ must stay free of Qt: ${_f} includes ${_qt_lines}")
  endif()
endforeach()
