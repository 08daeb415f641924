// Events <-> JSON, for the "events" cache entry and `tribev2 events --out events.json`.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "tribev2/events/event_table.hpp"

namespace tribev2::pipeline {

nlohmann::json events_to_json(const events::Events& events);
// `name` is used in error messages.
events::Events events_from_json(const nlohmann::json& j, const std::string& name);

}  // namespace tribev2::pipeline
