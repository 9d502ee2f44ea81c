# Writes OUT, the logloom(1) man page, from the help text of the binary
# LOGLOOM (its own --help and each command's), so that the page says what
# `logloom help` says. Run at build time: cmake -DLOGLOOM=... -DOUT=...
# -DVERSION=... -P manpage.cmake
function(help_of var)
  execute_process(COMMAND ${LOGLOOM} ${ARGN} OUTPUT_VARIABLE out ERROR_VARIABLE err
                  RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "logloom ${ARGN}: exit ${rc}: ${err}")
  endif()
  # roff: a backslash is \e; a line must not start with . or '
  string(REPLACE "\\" "\\e" out "${out}")
  string(REGEX REPLACE "(^|\n)([.'])" "\\1\\\\&\\2" out "${out}")
  set(${var} "${out}" PARENT_SCOPE)
endfunction()

help_of(top --help)
set(page ".TH LOGLOOM 1 \"\" \"logloom ${VERSION}\" \"User Commands\"
.SH NAME
logloom \\- correlate JSON service logs into workflow timelines and raise alerts
.SH SYNOPSIS
.nf
${top}.fi
.SH COMMANDS
")
foreach(cmd replay run repartition rules config)
  help_of(text help ${cmd})
  string(APPEND page ".SS ${cmd}\n.nf\n${text}.fi\n")
endforeach()
string(APPEND page ".SH SEE ALSO
The README of the source tree: configuration, sinks, rules, the Kafka topology.
")
file(WRITE ${OUT} "${page}")
