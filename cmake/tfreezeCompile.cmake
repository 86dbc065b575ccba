# tfreeze_add_compiled_model(): a frozen .pb as a library target, compiled by
# XLA ahead of time (`tfreeze compile`) when the project builds.
#
#   find_package(tfreeze CONFIG REQUIRED)
#   tfreeze_add_compiled_model(digits MODEL model.pb BATCH 1 8)
#   target_link_libraries(app PRIVATE digits)   # #include "digits.h"
#
# Arguments: MODEL (required), BATCH (default 1), NAME (C++ namespace, default
# the target's name), INPUT_SHAPE NAME=D1,D2,.. (repeatable), NO_VERIFY,
# CONV_AS_MATMUL auto|on|off (default auto), and TFREEZE_EXECUTABLE (default:
# the `tfreeze` beside Python_EXECUTABLE, else on the PATH).
#
# Misuse stops at configure time with one message naming the argument, rather
# than at build time inside `tfreeze compile` or Ninja.
function(tfreeze_add_compiled_model target)
  set(usage "tfreeze_add_compiled_model(${target})")
  set(single MODEL NAME CONV_AS_MATMUL TFREEZE_EXECUTABLE)
  set(multi BATCH INPUT_SHAPE)
  # Arguments not given stay undefined: a test on their value would take BATCH 0
  # or NAME N for "not given" (both are false in CMake).
  cmake_parse_arguments(PARSE_ARGV 1 ARG "NO_VERIFY" "${single}" "${multi}")
  if(ARG_UNPARSED_ARGUMENTS)
    list(JOIN ARG_UNPARSED_ARGUMENTS " " unknown)
    message(FATAL_ERROR "${usage}: unknown argument(s) \"${unknown}\"; the arguments are: "
                        "MODEL file.pb, BATCH sizes.., NAME, INPUT_SHAPE NAME=D1,D2,.., "
                        "NO_VERIFY, CONV_AS_MATMUL auto|on|off, TFREEZE_EXECUTABLE")
  endif()
  if(ARG_KEYWORDS_MISSING_VALUES)
    list(JOIN ARG_KEYWORDS_MISSING_VALUES ", " keywords)
    message(FATAL_ERROR "${usage}: ${keywords} given without a value")
  endif()
  if(NOT DEFINED ARG_MODEL)
    message(FATAL_ERROR "${usage}: MODEL is required (the frozen .pb to compile)")
  endif()
  get_filename_component(model "${ARG_MODEL}" ABSOLUTE)
  get_source_file_property(generated "${model}" GENERATED)
  if(NOT EXISTS "${model}" AND NOT generated)
    message(FATAL_ERROR "${usage}: MODEL file \"${model}\" does not exist (a relative path is "
                        "taken from ${CMAKE_CURRENT_SOURCE_DIR})")
  elseif(IS_DIRECTORY "${model}")
    message(FATAL_ERROR "${usage}: MODEL \"${model}\" is a directory; MODEL takes a frozen "
                        ".pb file (`tfreeze freeze` makes one from a SavedModel)")
  endif()
  if(NOT DEFINED ARG_NAME)
    set(ARG_NAME "${target}")
  endif()
  if(NOT ARG_NAME MATCHES "^[A-Za-z_][A-Za-z0-9_]*$")
    message(FATAL_ERROR "${usage}: \"${ARG_NAME}\" is not a C++ identifier; it names the "
                        "namespace and the header: pass NAME with letters, digits and _")
  endif()
  if(DEFINED ARG_CONV_AS_MATMUL AND NOT ARG_CONV_AS_MATMUL MATCHES "^(auto|on|off)$")
    message(FATAL_ERROR "${usage}: CONV_AS_MATMUL takes auto, on or off; got "
                        "\"${ARG_CONV_AS_MATMUL}\"")
  endif()
  if(NOT DEFINED ARG_BATCH)
    set(ARG_BATCH 1)
  endif()
  string(REPLACE "," ";" ARG_BATCH "${ARG_BATCH}")  # also the command line's 1,8
  foreach(batch IN LISTS ARG_BATCH)
    if(NOT batch MATCHES "^[1-9][0-9]*$")
      message(FATAL_ERROR "${usage}: BATCH takes batch sizes, positive integers such as "
                          "BATCH 1 8; got \"${batch}\"")
    endif()
  endforeach()
  _tfreeze_find_executable("${usage}" "${ARG_TFREEZE_EXECUTABLE}" tfreeze)

  set(dir "${CMAKE_CURRENT_BINARY_DIR}/${target}.compiled")
  set(library "${dir}/lib/lib${ARG_NAME}.a")
  string(REPLACE ";" "," batches "${ARG_BATCH}")
  set(options)
  foreach(shape IN LISTS ARG_INPUT_SHAPE)
    list(APPEND options --input-shape "${shape}")
  endforeach()
  if(ARG_NO_VERIFY)
    list(APPEND options --no-verify)
  endif()
  if(DEFINED ARG_CONV_AS_MATMUL)
    list(APPEND options --conv-as-matmul "${ARG_CONV_AS_MATMUL}")
  endif()
  add_custom_command(
    OUTPUT "${library}" "${dir}/include/${ARG_NAME}.h"
    COMMAND "${tfreeze}" compile "${model}" -o "${dir}" --batch "${batches}"
            --name "${ARG_NAME}" ${options}
    DEPENDS "${model}"
    COMMENT "tfreeze compile ${ARG_MODEL} (XLA AOT, batch ${batches})"
    VERBATIM)
  add_custom_target(${target}_compile DEPENDS "${library}")
  # The directory's own ${NAME}Config.cmake is written at build time; an
  # INTERFACE target can name its files before they exist.
  add_library(${target} INTERFACE)
  add_dependencies(${target} ${target}_compile)
  target_include_directories(${target} INTERFACE "${dir}/include")
  target_link_libraries(${target} INTERFACE "${library}" ${TensorFlowC_FRAMEWORK_LIBRARY})
endfunction()

# Sets `variable` in the caller to the tfreeze command: the one given, else the
# one beside Python_EXECUTABLE (tfreezeConfig.cmake defaults it to the
# interpreter tfreeze was built with: a venv's bin/, which need not be on the
# PATH), else the PATH's.
function(_tfreeze_find_executable usage given variable)
  if(given)
    if(NOT EXISTS "${given}")
      message(FATAL_ERROR "${usage}: TFREEZE_EXECUTABLE \"${given}\" does not exist")
    endif()
    set(${variable} "${given}" PARENT_SCOPE)
    return()
  endif()
  set(hints)
  set(looked "on the PATH")
  if(Python_EXECUTABLE)
    get_filename_component(hints "${Python_EXECUTABLE}" DIRECTORY)
    set(looked "in ${hints} and on the PATH")
  endif()
  find_program(TFREEZE_EXECUTABLE tfreeze HINTS ${hints})
  if(NOT TFREEZE_EXECUTABLE)
    message(FATAL_ERROR "${usage}: the `tfreeze` command was not found (looked ${looked}); "
                        "install tfreeze's Python package there or pass "
                        "TFREEZE_EXECUTABLE /path/to/tfreeze")
  endif()
  set(${variable} "${TFREEZE_EXECUTABLE}" PARENT_SCOPE)
endfunction()
