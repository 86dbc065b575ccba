# Provides nlohmann::json (header-only) as the target nlohmann_json::nlohmann_json.
#
# Prefers an installed CMake package (Debian's nlohmann-json3-dev); otherwise
# uses the headers of the `nlohmann-json` PyPI package, which pyproject.toml
# lists as a build requirement so wheel builds need no system package.

find_package(nlohmann_json 3.9 CONFIG QUIET)
if(nlohmann_json_FOUND)
  set(JsonHeaders_FOUND TRUE)
  return()
endif()

if(NOT Python_EXECUTABLE)
  find_package(Python 3.9 COMPONENTS Interpreter QUIET)
endif()
if(Python_EXECUTABLE)
  execute_process(
    COMMAND "${Python_EXECUTABLE}" -c
      "import importlib.util as u, os; s = u.find_spec('nlohmann_json'); print(os.path.join(s.submodule_search_locations[0], 'include') if s else '')"
    OUTPUT_VARIABLE _json_include_hint
    OUTPUT_STRIP_TRAILING_WHITESPACE)
endif()

find_path(JsonHeaders_INCLUDE_DIR nlohmann/json.hpp HINTS "${_json_include_hint}")
include(FindPackageHandleStandardArgs)
find_package_handle_standard_args(JsonHeaders
  REQUIRED_VARS JsonHeaders_INCLUDE_DIR
  REASON_FAILURE_MESSAGE "Install Debian's nlohmann-json3-dev or the nlohmann-json Python package.")
if(JsonHeaders_FOUND AND NOT TARGET nlohmann_json::nlohmann_json)
  add_library(nlohmann_json::nlohmann_json INTERFACE IMPORTED)
  set_target_properties(nlohmann_json::nlohmann_json PROPERTIES
    INTERFACE_INCLUDE_DIRECTORIES "${JsonHeaders_INCLUDE_DIR}")
endif()
