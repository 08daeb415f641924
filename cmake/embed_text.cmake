# Writes a C++ source defining `const char* NAME` with the text of INPUT (a raw string literal),
# used to build the viewer's HTML template into the viz library: cmake -DINPUT=... -DOUTPUT=...
# -DNAME=... -P embed_text.cmake
file(READ "${INPUT}" text)
string(FIND "${text}" ")TRIBEV2_EMBED\"" bad)
if(NOT bad EQUAL -1)
  message(FATAL_ERROR "${INPUT} contains the raw string delimiter")
endif()
file(WRITE "${OUTPUT}.tmp" "// GENERATED from ${INPUT} by cmake/embed_text.cmake; do not edit.\n"
  "namespace tribev2::viz::detail {\nextern const char* const ${NAME};\n"
  "const char* const ${NAME} = R\"TRIBEV2_EMBED(${text})TRIBEV2_EMBED\";\n}  // namespace tribev2::viz::detail\n")
file(RENAME "${OUTPUT}.tmp" "${OUTPUT}")
