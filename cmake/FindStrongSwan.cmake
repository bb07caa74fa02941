# Finds a configured and installed strongSwan to build a charon plugin against.
#
# Inputs (cache variables):
#   STRONGSWAN_PREFIX      install prefix of the strongSwan whose charon will load the plugin
#                          (from testbed/setup: $ELASTIC_CACHE/strongswan-<version>-<flags>)
#   STRONGSWAN_SOURCE_DIR  its configured source tree (default: ${STRONGSWAN_PREFIX}/src). When set
#                          to an operator's own tree, the headers and config.h come from there.
# Results:
#   StrongSwan_FOUND, StrongSwan_VERSION, StrongSwan_CONFIG_H, StrongSwan_INCLUDE_DIRS,
#   StrongSwan_PLUGIN_DIR, StrongSwan_PIDDIR, StrongSwan_SBIN_DIR, and the imported target StrongSwan::charon
#   (headers, the forced config.h include, libstrongswan and libcharon).
#
# 5.9.8 installs only libstrongswan's headers; testbed/setup exports config.h and libcharon's and
# libipsec's headers into <prefix>/include/strongswan-private. The plugin must be built against the same
# configured tree as the charon that loads it (config.h changes struct layouts).

set(STRONGSWAN_PREFIX "" CACHE PATH "Install prefix of the strongSwan to build against")
set(STRONGSWAN_SOURCE_DIR "" CACHE PATH "Configured strongSwan source tree (optional)")

if(NOT STRONGSWAN_PREFIX AND DEFINED ENV{SWAN_PREFIX})
  set(STRONGSWAN_PREFIX "$ENV{SWAN_PREFIX}")
endif()

set(_sw_lib "${STRONGSWAN_PREFIX}/lib/ipsec")
if(STRONGSWAN_SOURCE_DIR AND EXISTS "${STRONGSWAN_SOURCE_DIR}/config.h")
  set(StrongSwan_CONFIG_H "${STRONGSWAN_SOURCE_DIR}/config.h")
  set(StrongSwan_INCLUDE_DIRS "${STRONGSWAN_SOURCE_DIR}/src/libstrongswan"
      "${STRONGSWAN_SOURCE_DIR}/src/libcharon" "${STRONGSWAN_SOURCE_DIR}/src/libipsec")
else()
  set(_sw_inc "${STRONGSWAN_PREFIX}/include/strongswan")
  set(StrongSwan_CONFIG_H "${STRONGSWAN_PREFIX}/include/strongswan-private/config.h")
  set(StrongSwan_INCLUDE_DIRS "${_sw_inc}" "${STRONGSWAN_PREFIX}/include/strongswan-private/libcharon"
      "${STRONGSWAN_PREFIX}/include/strongswan-private/libipsec")
endif()

find_library(StrongSwan_LIBSTRONGSWAN strongswan PATHS "${_sw_lib}" NO_DEFAULT_PATH)
find_library(StrongSwan_LIBCHARON charon PATHS "${_sw_lib}" NO_DEFAULT_PATH)
set(StrongSwan_PLUGIN_DIR "${_sw_lib}/plugins")
# charon's pid file directory (IPSEC_PIDDIR, a make-time define): from the configured tree.
set(StrongSwan_PIDDIR "/var/run")
set(_sw_mk "${STRONGSWAN_SOURCE_DIR}")
if(NOT _sw_mk)
  set(_sw_mk "${STRONGSWAN_PREFIX}/src")
endif()
if(EXISTS "${_sw_mk}/Makefile")
  file(STRINGS "${_sw_mk}/Makefile" _sw_piddir REGEX "^piddir = ")
  if(_sw_piddir)
    string(REGEX REPLACE "^piddir = " "" StrongSwan_PIDDIR "${_sw_piddir}")
  endif()
endif()
set(StrongSwan_SBIN_DIR "${STRONGSWAN_PREFIX}/sbin")

if(NOT EXISTS "${StrongSwan_CONFIG_H}")
  set(StrongSwan_CONFIG_H "StrongSwan_CONFIG_H-NOTFOUND")
else()
  file(STRINGS "${StrongSwan_CONFIG_H}" _sw_ver REGEX "^#define VERSION \"")
  string(REGEX REPLACE ".*\"(.*)\".*" "\\1" StrongSwan_VERSION "${_sw_ver}")
endif()

include(FindPackageHandleStandardArgs)
find_package_handle_standard_args(StrongSwan
  REQUIRED_VARS StrongSwan_LIBSTRONGSWAN StrongSwan_LIBCHARON StrongSwan_CONFIG_H
  VERSION_VAR StrongSwan_VERSION
  REASON_FAILURE_MESSAGE "set STRONGSWAN_PREFIX (run ./testbed/setup to build one)")

if(StrongSwan_FOUND AND NOT TARGET StrongSwan::charon)
  foreach(_dir IN LISTS StrongSwan_INCLUDE_DIRS)
    if(NOT EXISTS "${_dir}/library.h" AND NOT EXISTS "${_dir}/daemon.h" AND NOT EXISTS "${_dir}/ipsec.h")
      message(FATAL_ERROR "strongSwan headers missing in ${_dir}")
    endif()
  endforeach()
  add_library(StrongSwan::charon INTERFACE IMPORTED)
  # strongSwan's headers trigger -Wunused-parameter etc.: mark them as system headers.
  set_target_properties(StrongSwan::charon PROPERTIES
    INTERFACE_SYSTEM_INCLUDE_DIRECTORIES "${StrongSwan_INCLUDE_DIRS}"
    INTERFACE_INCLUDE_DIRECTORIES "${StrongSwan_INCLUDE_DIRS}"
    INTERFACE_COMPILE_OPTIONS "SHELL:$<$<COMPILE_LANGUAGE:C>:-include ${StrongSwan_CONFIG_H}>"
    INTERFACE_LINK_LIBRARIES "${StrongSwan_LIBCHARON};${StrongSwan_LIBSTRONGSWAN}")
endif()
mark_as_advanced(StrongSwan_LIBSTRONGSWAN StrongSwan_LIBCHARON)
