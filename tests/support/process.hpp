#pragma once

#include <sys/types.h>

#include <chrono>
#include <map>
#include <string>
#include <vector>

namespace nucleo::test {

struct ProcessResult {
  int exit_code = -1;  // -1 when killed by a signal or timed out
  bool timed_out = false;
  std::string out;
  std::string err;
};

// Environment changes for a child: the parent's environment plus these (an empty
// value removes the variable).
using EnvironmentChanges = std::map<std::string, std::string>;

// A child process whose stdout/stderr go to temporary files.
class ChildProcess {
 public:
  ChildProcess(const std::vector<std::string>& argv, const EnvironmentChanges& env = {},
               const std::string& working_directory = "");
  ~ChildProcess();  // kills (SIGKILL) and reaps a child still running
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  void signal(int signo);
  // Waits for exit; kills the child and marks timed_out when it outlives the limit.
  ProcessResult wait(std::chrono::milliseconds limit);
  bool running();
  std::string stderr_so_far() const;
  // Whether this child holds a socket listening on 127.0.0.1:`port` (Linux /proc): the
  // server answering there is this one, not another test's that took the port meanwhile.
  bool listens_on(unsigned short port) const;

 private:
  pid_t pid_ = -1;
  int status_ = 0;
  bool reaped_ = false;
  std::string out_path_, err_path_;
};

// Runs to completion (bounded: a hang is a failure, not a stuck suite).
ProcessResult run_process(const std::vector<std::string>& argv, const EnvironmentChanges& env = {},
                          std::chrono::milliseconds limit = std::chrono::seconds(60),
                          const std::string& working_directory = "");

// Runs a shell command line; throws std::runtime_error with its output when it fails.
std::string run_checked(const std::vector<std::string>& argv);

// A TCP port on 127.0.0.1 that was free a moment ago.
unsigned short free_port();

// A fresh directory under the system temp dir, removed by the destructor.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

std::string read_file(const std::string& path);

}  // namespace nucleo::test
