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
# `tfreeze` on the PATH).
function(tfreeze_add_compiled_model target)
  cmake_parse_arguments(PARSE_ARGV 1 ARG "NO_VERIFY" "MODEL;NAME;TFREEZE_EXECUTABLE;CONV_AS_MATMUL"
                        "BATCH;INPUT_SHAPE")
  if(NOT ARG_MODEL)
    message(FATAL_ERROR "tfreeze_add_compiled_model(${target}): MODEL model.pb is required")
  endif()
  if(NOT ARG_NAME)
    set(ARG_NAME "${target}")
  endif()
  if(NOT ARG_BATCH)
    set(ARG_BATCH 1)
  endif()
  if(NOT ARG_TFREEZE_EXECUTABLE)
    find_program(TFREEZE_EXECUTABLE tfreeze REQUIRED)
    set(ARG_TFREEZE_EXECUTABLE "${TFREEZE_EXECUTABLE}")
  endif()
  get_filename_component(model "${ARG_MODEL}" ABSOLUTE)
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
  if(ARG_CONV_AS_MATMUL)
    list(APPEND options --conv-as-matmul "${ARG_CONV_AS_MATMUL}")
  endif()
  add_custom_command(
    OUTPUT "${library}" "${dir}/include/${ARG_NAME}.h"
    COMMAND "${ARG_TFREEZE_EXECUTABLE}" compile "${model}" -o "${dir}" --batch "${batches}"
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
