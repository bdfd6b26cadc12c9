# qmath_ptq_demo_lib: the demo's code (ptq.hpp) as a header-only target, shared by qmath-ptq-demo and its test
# (tests/ptq_demo). Included from both; defined once. Needs Eigen (FP32 reference inference), zlib (the
# gzip-compressed Fashion-MNIST files) and nlohmann-json (the results table): Debian packages in scripts/install-deps.sh.
if(NOT TARGET qmath_ptq_demo_lib)
  find_package(Eigen3 3.3 REQUIRED NO_MODULE)
  find_package(ZLIB REQUIRED)
  find_package(nlohmann_json 3 REQUIRED)
  add_library(qmath_ptq_demo_lib INTERFACE)
  target_include_directories(qmath_ptq_demo_lib INTERFACE ${CMAKE_CURRENT_LIST_DIR})
  target_link_libraries(qmath_ptq_demo_lib INTERFACE qmath::qmath Eigen3::Eigen ZLIB::ZLIB
                        nlohmann_json::nlohmann_json)
  target_compile_definitions(qmath_ptq_demo_lib INTERFACE
    QMATH_PTQ_DEMO_MODEL="${CMAKE_CURRENT_LIST_DIR}/fashion_mlp.qmw")
endif()
