# Finds every third-party dependency once, so module CMakeLists only name targets.
# LibTorch: Debian's libtorch-dev (1.13, CPU) by default; a CUDA build of 2.x through
# CMAKE_PREFIX_PATH or Torch_DIR (e.g. python3 -c 'import torch;print(torch.utils.cmake_prefix_path)').
find_package(Torch REQUIRED)
find_package(yaml-cpp REQUIRED)
find_package(SQLite3 REQUIRED)
find_package(nlohmann_json REQUIRED)
find_package(CLI11 CONFIG REQUIRED)
find_package(fmt REQUIRED)
find_package(spdlog REQUIRED)
find_package(Threads REQUIRED)
find_package(PkgConfig REQUIRED)
pkg_check_modules(PCRE2 REQUIRED IMPORTED_TARGET libpcre2-8)
pkg_check_modules(SECCOMP IMPORTED_TARGET libseccomp)
pkg_check_modules(HTTPLIB IMPORTED_TARGET cpp-httplib)
# CRC32C of TensorBoard event files (core/tensorboard/tf_record.cpp): Intel ISA-L, Debian libisal-dev.
pkg_check_modules(ISAL REQUIRED IMPORTED_TARGET libisal)

# SQLite's imported target was renamed in CMake 4 (SQLite3::SQLite3); older CMake has SQLite::SQLite3.
if(TARGET SQLite3::SQLite3)
  set(GRPO_SQLITE_TARGET SQLite3::SQLite3)
else()
  set(GRPO_SQLITE_TARGET SQLite::SQLite3)
endif()

# yaml-cpp's exported target name changed between releases.
if(TARGET yaml-cpp::yaml-cpp)
  set(GRPO_YAML_TARGET yaml-cpp::yaml-cpp)
else()
  set(GRPO_YAML_TARGET yaml-cpp)
endif()

# CUDA is on exactly when LibTorch was built with it.
set(GRPO_CUDA OFF)
if(TARGET torch_cuda OR TORCH_CUDA_LIBRARIES OR CAFFE2_USE_CUDA)
  set(GRPO_CUDA ON)
endif()
if(GRPO_CUDA)
  enable_language(CUDA)
  find_package(CUDAToolkit REQUIRED)
  if(NOT CMAKE_CUDA_ARCHITECTURES)
    set(CMAKE_CUDA_ARCHITECTURES 90)
  endif()
endif()
message(STATUS "grpo.cpp: LibTorch ${Torch_VERSION}, CUDA ${GRPO_CUDA}")

if(GRPO_BUILD_TESTS)
  find_package(GTest REQUIRED)
  include(GoogleTest)
endif()
if(GRPO_BUILD_BENCH)
  find_package(benchmark QUIET)
endif()
