# Warnings and sanitizers applied to every target of this project (not to dependencies).
function(tribev2_target_defaults target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor
                                           -Wcast-align -Wunused -Woverloaded-virtual)
  if(TRIBEV2_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
  if(TRIBEV2_SANITIZE)
    target_compile_options(${target} PRIVATE -fsanitize=address,undefined -fno-omit-frame-pointer
                                             -fno-sanitize-recover=undefined)
    target_link_options(${target} PRIVATE -fsanitize=address,undefined)
  endif()
endfunction()

if(TRIBEV2_SANITIZE)
  # Link flags must reach every executable, including tests.
  add_link_options(-fsanitize=address,undefined)
endif()
