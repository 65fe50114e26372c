#----------------------------------------------------------------
# Generated CMake target import file.
#----------------------------------------------------------------

# Commands may need to know the format version.
set(CMAKE_IMPORT_FILE_VERSION 1)

# Import target "agentgraph::agentgraph_runtime" for configuration ""
set_property(TARGET agentgraph::agentgraph_runtime APPEND PROPERTY IMPORTED_CONFIGURATIONS NOCONFIG)
set_target_properties(agentgraph::agentgraph_runtime PROPERTIES
  IMPORTED_LINK_INTERFACE_LANGUAGES_NOCONFIG "CXX"
  IMPORTED_LOCATION_NOCONFIG "${_IMPORT_PREFIX}/lib/libagentgraph_runtime.a"
  )

list(APPEND _cmake_import_check_targets agentgraph::agentgraph_runtime )
list(APPEND _cmake_import_check_files_for_agentgraph::agentgraph_runtime "${_IMPORT_PREFIX}/lib/libagentgraph_runtime.a" )

# Import target "agentgraph::agentgraph_net" for configuration ""
set_property(TARGET agentgraph::agentgraph_net APPEND PROPERTY IMPORTED_CONFIGURATIONS NOCONFIG)
set_target_properties(agentgraph::agentgraph_net PROPERTIES
  IMPORTED_LINK_INTERFACE_LANGUAGES_NOCONFIG "CXX"
  IMPORTED_LOCATION_NOCONFIG "${_IMPORT_PREFIX}/lib/libagentgraph_net.a"
  )

list(APPEND _cmake_import_check_targets agentgraph::agentgraph_net )
list(APPEND _cmake_import_check_files_for_agentgraph::agentgraph_net "${_IMPORT_PREFIX}/lib/libagentgraph_net.a" )

# Import target "agentgraph::agentgraph_actors" for configuration ""
set_property(TARGET agentgraph::agentgraph_actors APPEND PROPERTY IMPORTED_CONFIGURATIONS NOCONFIG)
set_target_properties(agentgraph::agentgraph_actors PROPERTIES
  IMPORTED_LINK_INTERFACE_LANGUAGES_NOCONFIG "CXX"
  IMPORTED_LOCATION_NOCONFIG "${_IMPORT_PREFIX}/lib/libagentgraph_actors.a"
  )

list(APPEND _cmake_import_check_targets agentgraph::agentgraph_actors )
list(APPEND _cmake_import_check_files_for_agentgraph::agentgraph_actors "${_IMPORT_PREFIX}/lib/libagentgraph_actors.a" )

# Commands beyond this point should not need to know the version.
set(CMAKE_IMPORT_FILE_VERSION)
