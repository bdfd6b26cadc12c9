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

# Checks one header: with want_intrinsics FALSE it must include no intrinsics header, with TRUE (the control) it
# must include one. A failure is appended to _bad in the caller's scope.
function(check_header header want_intrinsics)
  first_intrinsics_header(${header} _hit)
  if(_hit AND NOT want_intrinsics)
    set(_bad "${_bad}  ${header} includes an intrinsics header: ${_hit}\n" PARENT_SCOPE)
  elseif(NOT _hit AND want_intrinsics)
    set(_bad "${_bad}  control ${header} includes no intrinsics header: the check cannot see them\n" PARENT_SCOPE)
  elseif(_hit)
    message(STATUS "control ${header}: ${_hit}")
  else()
    message(STATUS "${header}: no intrinsics header")
  endif()
endfunction()

string(REPLACE "|" ";" _headers "${HEADERS}")
set(_bad "")
foreach(_h IN LISTS _headers)
  check_header(${_h} FALSE)
endforeach()
if(CONTROL)
  check_header(${CONTROL} TRUE)
endif()
if(_bad)
  message(FATAL_ERROR "scalar headers must not include intrinsics headers:\n${_bad}")
endif()
