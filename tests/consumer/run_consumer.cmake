# Configures, builds and runs one consumer project; run with `cmake -P` from CTest (see tests/CMakeLists.txt).
#   -DSOURCE_DIR=<consumer sources> -DBINARY_DIR=<scratch build dir> -DGENERATOR=<generator>
#   -DCXX_COMPILER=<compiler> -DCONFIGURE_ARGS=<extra -D arguments separated by |> -DEXECUTABLE=<program name>
foreach(var SOURCE_DIR BINARY_DIR GENERATOR CXX_COMPILER EXECUTABLE)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "run_consumer.cmake: ${var} is not set")
  endif()
endforeach()
string(REPLACE "|" ";" CONFIGURE_ARGS "${CONFIGURE_ARGS}")
file(REMOVE_RECURSE "${BINARY_DIR}")
execute_process(
  COMMAND "${CMAKE_COMMAND}" -S "${SOURCE_DIR}" -B "${BINARY_DIR}" -G "${GENERATOR}"
          "-DCMAKE_CXX_COMPILER=${CXX_COMPILER}" -DCMAKE_BUILD_TYPE=Release ${CONFIGURE_ARGS}
  COMMAND_ERROR_IS_FATAL ANY)
execute_process(COMMAND "${CMAKE_COMMAND}" --build "${BINARY_DIR}" COMMAND_ERROR_IS_FATAL ANY)
execute_process(COMMAND "${BINARY_DIR}/${EXECUTABLE}" COMMAND_ERROR_IS_FATAL ANY)
