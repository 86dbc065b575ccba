# Locates TensorFlow's C API and defines the imported target TensorFlow::C.
#
# Two sources, in this order:
#   1. TENSORFLOW_ROOT (CMake or environment variable): a tree with include/
#      and lib/, as in a libtensorflow tarball or a custom build.
#   2. The `tensorflow` (or `tensorflow-cpu`) Python package of
#      Python_EXECUTABLE: headers in tensorflow/include, the C API symbols in
#      libtensorflow_cc.so.2 and libtensorflow_framework.so.2. The package is
#      located with importlib.util.find_spec, which does not import TensorFlow.
#
# Sets TensorFlowC_FOUND, TensorFlowC_INCLUDE_DIR, TensorFlowC_LIBRARY_DIR,
# TensorFlowC_LIBRARIES.

if(NOT TENSORFLOW_ROOT AND DEFINED ENV{TENSORFLOW_ROOT})
  set(TENSORFLOW_ROOT "$ENV{TENSORFLOW_ROOT}")
endif()

if(TENSORFLOW_ROOT)
  set(_tf_include_hint "${TENSORFLOW_ROOT}/include")
  set(_tf_lib_hint "${TENSORFLOW_ROOT}/lib")
else()
  if(NOT Python_EXECUTABLE)
    find_package(Python 3.9 COMPONENTS Interpreter QUIET)
  endif()
  if(Python_EXECUTABLE)
    execute_process(
      COMMAND "${Python_EXECUTABLE}" -c
        "import importlib.util as u; s = u.find_spec('tensorflow'); print(s.submodule_search_locations[0] if s else '')"
      OUTPUT_VARIABLE _tf_package_dir
      OUTPUT_STRIP_TRAILING_WHITESPACE
      RESULT_VARIABLE _tf_probe_result)
    if(_tf_probe_result EQUAL 0 AND _tf_package_dir)
      set(_tf_include_hint "${_tf_package_dir}/include")
      set(_tf_lib_hint "${_tf_package_dir}")
    endif()
  endif()
endif()

find_path(TensorFlowC_INCLUDE_DIR tensorflow/c/c_api.h
  HINTS "${_tf_include_hint}" NO_DEFAULT_PATH)
# The wheel ships libtensorflow_cc; a libtensorflow tarball ships libtensorflow.
find_file(TensorFlowC_MAIN_LIBRARY NAMES libtensorflow_cc.so.2 libtensorflow.so.2
  HINTS "${_tf_lib_hint}" NO_DEFAULT_PATH)
find_file(TensorFlowC_FRAMEWORK_LIBRARY NAMES libtensorflow_framework.so.2
  HINTS "${_tf_lib_hint}" NO_DEFAULT_PATH)

include(FindPackageHandleStandardArgs)
find_package_handle_standard_args(TensorFlowC
  REQUIRED_VARS TensorFlowC_INCLUDE_DIR TensorFlowC_MAIN_LIBRARY TensorFlowC_FRAMEWORK_LIBRARY
  REASON_FAILURE_MESSAGE
    "Install the tensorflow-cpu (or tensorflow) Python package for ${Python_EXECUTABLE}, or set TENSORFLOW_ROOT to a tree with include/ and lib/.")

if(TensorFlowC_FOUND)
  get_filename_component(TensorFlowC_LIBRARY_DIR "${TensorFlowC_MAIN_LIBRARY}" DIRECTORY)
  set(TensorFlowC_LIBRARIES "${TensorFlowC_MAIN_LIBRARY}" "${TensorFlowC_FRAMEWORK_LIBRARY}")
  if(NOT TARGET TensorFlow::C)
    add_library(TensorFlow::C INTERFACE IMPORTED)
    set_target_properties(TensorFlow::C PROPERTIES
      INTERFACE_INCLUDE_DIRECTORIES "${TensorFlowC_INCLUDE_DIR}"
      INTERFACE_LINK_LIBRARIES "${TensorFlowC_LIBRARIES}")
  endif()
endif()
mark_as_advanced(TensorFlowC_INCLUDE_DIR TensorFlowC_MAIN_LIBRARY TensorFlowC_FRAMEWORK_LIBRARY)
