// How the pipeline tells the caller what it does: log lines, progress per stage, and one
// record per stage for run.json.
#pragma once

#include <functional>
#include <string>

#include "tribev2/pipeline/stages.hpp"

namespace tribev2::pipeline {

struct Observer {
  std::function<void(const std::string& line)> log;               // may be empty
  std::function<ProgressFn(const std::string& label)> progress;   // a bar for one stage; may be empty

  void say(const std::string& line) const {
    if (log) log(line);
  }
  ProgressFn bar(const std::string& label) const { return progress ? progress(label) : ProgressFn{}; }
};

struct StageRecord {
  std::string name;
  std::string status;   // computed | cached | from-file | skipped | unavailable
  double seconds = 0.0;
  std::string key;      // cache key (when cached or stored)
  std::string detail;
};

}  // namespace tribev2::pipeline
