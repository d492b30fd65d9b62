# nucleo_add_plugin(<name> SOURCES <file>... MANIFEST <plugin.json>)
#
# Builds a plugin as the kernel loads it: a MODULE library named as the manifest's
# "library" field, exporting nucleo_plugin_entry only (hidden visibility and a version
# script) and linked with -Wl,--no-undefined (a missing symbol fails the build, not the
# kernel's dlopen). The library and a copy of the manifest land together in
# <build dir>/<name>/ — the folder to point plugins.<alias>.file at.
function(nucleo_add_plugin name)
  cmake_parse_arguments(PARSE_ARGV 1 arg "" "MANIFEST" "SOURCES")
  if(NOT arg_SOURCES)
    message(FATAL_ERROR "nucleo_add_plugin(${name}): SOURCES is required")
  endif()
  if(NOT arg_MANIFEST)
    message(FATAL_ERROR "nucleo_add_plugin(${name}): MANIFEST plugin.json is required")
  endif()
  get_filename_component(manifest "${arg_MANIFEST}" ABSOLUTE)
  if(NOT EXISTS "${manifest}")
    message(FATAL_ERROR "nucleo_add_plugin(${name}): ${manifest} does not exist")
  endif()
  file(READ "${manifest}" manifest_text)
  string(JSON library ERROR_VARIABLE problem GET "${manifest_text}" library)
  if(problem)
    message(FATAL_ERROR "nucleo_add_plugin(${name}): ${manifest} needs a \"library\" file name (${problem})")
  endif()
  set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS "${manifest}")

  add_library(${name} MODULE ${arg_SOURCES})
  target_link_libraries(${name} PRIVATE nucleo::sdk)
  set_target_properties(${name} PROPERTIES
    PREFIX "" SUFFIX "" OUTPUT_NAME "${library}"
    LIBRARY_OUTPUT_DIRECTORY "${CMAKE_CURRENT_BINARY_DIR}/${name}"
    C_VISIBILITY_PRESET hidden CXX_VISIBILITY_PRESET hidden VISIBILITY_INLINES_HIDDEN ON)
  # Hidden visibility still exports the standard library's weak template instances; a
  # version script leaves nucleo_plugin_entry as the only symbol the kernel (or another
  # plugin) can bind to.
  set(exports "${CMAKE_CURRENT_BINARY_DIR}/${name}.exports")
  file(WRITE "${exports}" "{ global: nucleo_plugin_entry; local: *; };\n")
  target_link_options(${name} PRIVATE "LINKER:--no-undefined" "LINKER:--version-script=${exports}")
  set_property(TARGET ${name} APPEND PROPERTY LINK_DEPENDS "${exports}")
  add_custom_command(TARGET ${name} POST_BUILD
    COMMAND ${CMAKE_COMMAND} -E copy_if_different "${manifest}" "$<TARGET_FILE_DIR:${name}>/plugin.json"
    COMMENT "Copying ${arg_MANIFEST} beside ${library}")
endfunction()
