# Helpers shared by every module's CMakeLists.txt.

# ll_target_defaults(<target>): warnings (errors with LL_WERROR) and sanitizers
# for the project's own code.
function(ll_target_defaults target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wshadow
                         -Wstrict-prototypes -Wmissing-prototypes -Wformat=2)
  if(LL_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
  target_compile_definitions(${target} PRIVATE _GNU_SOURCE)
  if(LL_SANITIZE)
    target_compile_options(${target} PRIVATE -fsanitize=${LL_SANITIZE}
                           -fno-omit-frame-pointer -fno-sanitize-recover=all)
    target_link_options(${target} PRIVATE -fsanitize=${LL_SANITIZE})
  endif()
  if(LL_FUZZ) # coverage for libFuzzer in every library the targets link
    target_compile_options(${target} PRIVATE -fsanitize=fuzzer-no-link)
  endif()
endfunction()

# ll_add_library(<name> SOURCES...): static library ll_<name>, alias ll::<name>,
# public headers in <dir>/include.
function(ll_add_library name)
  add_library(ll_${name} STATIC ${ARGN})
  add_library(ll::${name} ALIAS ll_${name})
  target_include_directories(ll_${name} PUBLIC ${CMAKE_CURRENT_SOURCE_DIR}/include
                             PRIVATE ${CMAKE_CURRENT_SOURCE_DIR})
  ll_target_defaults(ll_${name})
endfunction()

# ll_add_test(<name> SOURCES... LIBS...): one cmocka binary, one ctest,
# labelled by the folder of its first source (unit, e2e or integration:
# `ctest -L unit` runs the fast ones).
function(ll_add_test name)
  cmake_parse_arguments(T "" "" "SOURCES;LIBS" ${ARGN})
  add_executable(${name} ${T_SOURCES})
  target_link_libraries(${name} PRIVATE ${T_LIBS} PkgConfig::CMOCKA)
  ll_target_defaults(${name})
  add_test(NAME ${name} COMMAND ${name} WORKING_DIRECTORY ${CMAKE_CURRENT_SOURCE_DIR})
  list(GET T_SOURCES 0 first)
  string(REGEX MATCH "^[a-z0-9]+" kind "${first}")
  set_tests_properties(${name} PROPERTIES LABELS "${kind}" ENVIRONMENT
      "LL_SOURCE_DIR=${PROJECT_SOURCE_DIR};LL_BINARY_DIR=${PROJECT_BINARY_DIR}")
endfunction()

# ll_embed(<name> <symbol> <comment> FILES...): compiles FILES into
# ${CMAKE_CURRENT_BINARY_DIR}/<name>.c and <name>.h (see cmake/embed.cmake).
function(ll_embed name symbol comment)
  set(out ${CMAKE_CURRENT_BINARY_DIR}/${name})
  string(JOIN "|" inputs ${ARGN})
  add_custom_command(
    OUTPUT ${out}.c ${out}.h
    COMMAND ${CMAKE_COMMAND} -DOUT=${out} -DSYMBOL=${symbol} "-DINPUTS=${inputs}"
            -P ${PROJECT_SOURCE_DIR}/cmake/embed.cmake
    DEPENDS ${ARGN} ${PROJECT_SOURCE_DIR}/cmake/embed.cmake
    COMMENT "${comment}"
    VERBATIM)
endfunction()
