// Running an external tool (the speech recogniser) as a child process.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "tribev2/pipeline/interrupt.hpp"

namespace tribev2::pipeline {

// The executable `name` would run as: `name` itself when it contains a '/', else the first
// executable regular file named so in $PATH.
std::optional<std::filesystem::path> find_executable(const std::string& name);

struct ProcessResult {
  int exit_code = -1;   // valid when !signaled
  bool signaled = false;
  int signal = 0;
  std::string log_tail;  // the last lines of its stdout + stderr
};

// Runs argv (argv[0] resolved with find_executable) with stdin from /dev/null and stdout +
// stderr appended to `log_file`; the child is tracked in `cleanup` while it runs so that an
// interrupt terminates it. Waits for it to finish.
ProcessResult run_process(const std::vector<std::string>& argv, const std::filesystem::path& log_file,
                          Cleanup& cleanup);

// One line, shell-quoted where needed (for logs and run.json).
std::string shell_join(const std::vector<std::string>& argv);

}  // namespace tribev2::pipeline
