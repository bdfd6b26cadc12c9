# Preprocesses each header of HEADERS ("|"-separated, relative to INCLUDE_DIR) alone with CXX_COMPILER and fails if
# the result includes an x86 or Arm intrinsics header. CONTROL (optional) names a header that must include one, so
# that a check that cannot see intrinsics headers fails instead of passing.
# Usage: cmake -DCXX_COMPILER=... -DINCLUDE_DIR=... -DHEADERS=a.hpp|b.hpp [-DCONTROL=c.hpp] -DWORK_DIR=... -P this
set(_intrinsics_regex
    "[/\\\\](immintrin|x86intrin|x86gprintrin|ia32intrin|[a-z0-9_]*mmintrin|avx[a-z0-9_]*intrin|arm_neon|arm_sve|arm_acle|arm_fp16|arm_bf16|intrin)\\.h\"")
file(MAKE_DIRECTORY ${WORK_DIR})

# Returns in OUT the first intrinsics header that `header` includes, or "".
function(first_intrinsics_header header out)
  string(MAKE_C_IDENTIFIER ${header} _id)
  set(_src ${WORK_DIR}/${_id}.cpp)
  file(WRITE ${_src} "#include <${header}>\n")
  execute_process(COMMAND ${CXX_COMPILER} -std=c++17 -E -I${INCLUDE_DIR} ${_src}
                  RESULT_VARIABLE _rc OUTPUT_VARIABLE _pp ERROR_VARIABLE _err)
  if(NOT _rc EQUAL 0)
    message(FATAL_ERROR "preprocessing ${header} failed:\n${_err}")
  endif()
  string(REGEX MATCH "# [0-9]+ \"[^\"\n]*${_intrinsics_regex}" _hit "${_pp}")
  set(${out} "${_hit}" PARENT_SCOPE)
endfunction()

string(REPLACE "|" ";" _headers "${HEADERS}")
set(_bad "")
foreach(_h IN LISTS _headers)
  first_intrinsics_header(${_h} _hit)
  if(_hit)
    string(APPEND _bad "  ${_h} includes an intrinsics header: ${_hit}\n")
  else()
    message(STATUS "${_h}: no intrinsics header")
  endif()
endforeach()
if(CONTROL)
  first_intrinsics_header(${CONTROL} _hit)
  if(NOT _hit)
    string(APPEND _bad "  control ${CONTROL} includes no intrinsics header: the check cannot see them\n")
  else()
    message(STATUS "control ${CONTROL}: ${_hit}")
  endif()
endif()
if(_bad)
  message(FATAL_ERROR "scalar headers must not include intrinsics headers:\n${_bad}")
endif()
