# Helpers that keep module CMakeLists short and uniform.

set(GRPO_WARNINGS -Wall -Wextra -Wno-unused-parameter)

# grpo_add_library(NAME SOURCES ... LINK ... [TORCH])
# TORCH links LibTorch and reuses one precompiled header for <torch/torch.h>.
function(grpo_add_library name)
  cmake_parse_arguments(A "TORCH" "" "SOURCES;LINK" ${ARGN})
  add_library(${name} STATIC ${A_SOURCES})
  target_include_directories(${name} PUBLIC ${PROJECT_SOURCE_DIR})
  target_compile_options(${name} PRIVATE $<$<COMPILE_LANGUAGE:CXX>:${GRPO_WARNINGS}>)
  target_link_libraries(${name} PUBLIC ${A_LINK})
  if(A_TORCH)
    grpo_use_torch(${name})
  endif()
endfunction()

# One precompiled LibTorch header shared by every target that needs it: the single largest
# saving in a clean build (each torch TU otherwise re-parses ~200k lines).
function(grpo_use_torch target)
  target_link_libraries(${target} PUBLIC ${TORCH_LIBRARIES})
  target_compile_options(${target} PUBLIC $<$<COMPILE_LANGUAGE:CXX>:${TORCH_CXX_FLAGS}>)
  if(GRPO_PCH)
    if(NOT TARGET grpo_torch_pch)
      file(WRITE ${PROJECT_BINARY_DIR}/pch/grpo_torch_pch.cpp "// precompiled-header anchor\n")
      add_library(grpo_torch_pch STATIC ${PROJECT_BINARY_DIR}/pch/grpo_torch_pch.cpp)
      target_link_libraries(grpo_torch_pch PUBLIC ${TORCH_LIBRARIES})
      target_compile_options(grpo_torch_pch PUBLIC $<$<COMPILE_LANGUAGE:CXX>:${TORCH_CXX_FLAGS}>)
      target_precompile_headers(grpo_torch_pch PRIVATE <torch/torch.h> <vector> <string> <memory>)
    endif()
    target_precompile_headers(${target} REUSE_FROM grpo_torch_pch)
  endif()
endfunction()

# grpo_add_test(NAME SOURCES ... LINK ... [TORCH] [LABELS ...])
function(grpo_add_test name)
  cmake_parse_arguments(A "TORCH" "" "SOURCES;LINK;LABELS" ${ARGN})
  add_executable(${name} ${A_SOURCES})
  target_link_libraries(${name} PRIVATE ${A_LINK} GTest::gtest GTest::gtest_main Threads::Threads)
  target_compile_options(${name} PRIVATE ${GRPO_WARNINGS})
  target_compile_definitions(${name} PRIVATE GRPO_SOURCE_DIR="${PROJECT_SOURCE_DIR}"
                                             GRPO_BINARY_DIR="${PROJECT_BINARY_DIR}")
  target_link_libraries(${name} PRIVATE grpo_test_common)
  if(A_TORCH)
    grpo_use_torch(${name})
  endif()
  if(NOT A_LABELS)
    set(A_LABELS cpu)
  endif()
  gtest_discover_tests(${name} DISCOVERY_MODE PRE_TEST DISCOVERY_TIMEOUT 60
                       PROPERTIES LABELS "${A_LABELS}")
endfunction()
