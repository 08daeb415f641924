#include "modality_table.hpp"

#include "tribev2/core/error.hpp"

namespace tribev2::pipeline::detail {

const ModalityRow& modality_row(std::string_view name) {
  for (const auto& row : modality_table())
    if (name == row.name) return row;
  fail("the brain model has a modality '", name, "' that this build does not know (known: text, audio, video)");
}

}  // namespace tribev2::pipeline::detail
