# `cmake --install` into a fresh prefix, as a package build would: every file
# in its place, the installed binary runs, the man page holds every
# command's options, the unit starts the installed binary.
#   cmake -DBUILD=<build dir> -DPREFIX=<empty dir> -P install_check.cmake
file(REMOVE_RECURSE ${PREFIX})
execute_process(COMMAND ${CMAKE_COMMAND} --install ${BUILD} --prefix ${PREFIX}
                RESULT_VARIABLE rc OUTPUT_QUIET)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "cmake --install failed: ${rc}")
endif()
foreach(f bin/logloom share/man/man1/logloom.1 share/logloom/rules/10-process.yaml
          etc/logloom/logloom.yaml lib/systemd/system/logloom.service)
  if(NOT EXISTS ${PREFIX}/${f})
    message(FATAL_ERROR "not installed: ${f}")
  endif()
endforeach()
execute_process(COMMAND ${PREFIX}/bin/logloom version OUTPUT_VARIABLE v RESULT_VARIABLE rc)
if(NOT rc EQUAL 0 OR NOT v MATCHES "^logloom [0-9]+\\.[0-9]+\\.[0-9]+ ")
  message(FATAL_ERROR "the installed binary says: ${v}")
endif()
execute_process(COMMAND ${PREFIX}/bin/logloom config check ${PREFIX}/etc/logloom/logloom.yaml
                RESULT_VARIABLE rc OUTPUT_QUIET)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "the installed example configuration does not check clean")
endif()
file(READ ${PREFIX}/share/man/man1/logloom.1 man)
foreach(want "^\\.TH LOGLOOM 1" "\n\\.SS replay\n" "\n\\.SS repartition\n" "--session-gap"
             "--group ID")
  if(NOT man MATCHES "${want}")
    message(FATAL_ERROR "the man page lacks ${want}")
  endif()
endforeach()
file(READ ${PREFIX}/lib/systemd/system/logloom.service unit)
if(NOT unit MATCHES "\nExecStart=/[^\n]*/logloom run -c /[^\n]*/logloom/logloom.yaml\n")
  message(FATAL_ERROR "the unit does not start the installed binary: ${unit}")
endif()
message(STATUS "installed and checked under ${PREFIX}")
