#include "tests/support/process.hpp"

#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

extern char** environ;

namespace nucleo::test {
namespace {

std::string temp_file_path(const char* tag) {
  std::string pattern = (std::filesystem::temp_directory_path() / (std::string("nucleo-") + tag + "-XXXXXX")).string();
  int fd = mkstemp(pattern.data());
  if (fd < 0) throw std::runtime_error("mkstemp failed: " + std::string(std::strerror(errno)));
  close(fd);
  return pattern;
}

std::vector<std::string> merged_environment(const EnvironmentChanges& changes) {
  std::map<std::string, std::string> env;
  for (char** e = environ; e && *e; ++e) {
    std::string entry(*e);
    auto eq = entry.find('=');
    if (eq != std::string::npos) env[entry.substr(0, eq)] = entry.substr(eq + 1);
  }
  for (const auto& [k, v] : changes) {
    if (v.empty())
      env.erase(k);
    else
      env[k] = v;
  }
  std::vector<std::string> out;
  for (const auto& [k, v] : env) out.push_back(k + "=" + v);
  return out;
}

}  // namespace

ChildProcess::ChildProcess(const std::vector<std::string>& argv, const EnvironmentChanges& env,
                           const std::string& working_directory)
    : out_path_(temp_file_path("out")), err_path_(temp_file_path("err")) {
  std::vector<std::string> env_strings = merged_environment(env);
  std::vector<char*> c_argv, c_env;
  for (const auto& a : argv) c_argv.push_back(const_cast<char*>(a.c_str()));
  c_argv.push_back(nullptr);
  for (const auto& e : env_strings) c_env.push_back(const_cast<char*>(e.c_str()));
  c_env.push_back(nullptr);

  pid_ = fork();
  if (pid_ < 0) throw std::runtime_error("fork failed");
  if (pid_ == 0) {
    // Child: only async-signal-safe calls from here on.
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    int out = open(out_path_.c_str(), O_WRONLY | O_TRUNC);
    int err = open(err_path_.c_str(), O_WRONLY | O_TRUNC);
    int in = open("/dev/null", O_RDONLY);
    dup2(in, 0);
    dup2(out, 1);
    dup2(err, 2);
    if (!working_directory.empty() && chdir(working_directory.c_str()) != 0) _exit(127);
    execve(c_argv[0], c_argv.data(), c_env.data());
    _exit(127);
  }
}

ChildProcess::~ChildProcess() {
  if (pid_ > 0 && !reaped_) {
    kill(pid_, SIGKILL);
    waitpid(pid_, &status_, 0);
  }
  std::filesystem::remove(out_path_);
  std::filesystem::remove(err_path_);
}

void ChildProcess::signal(int signo) {
  if (!reaped_) kill(pid_, signo);
}

bool ChildProcess::running() {
  if (reaped_) return false;
  pid_t r = waitpid(pid_, &status_, WNOHANG);
  if (r == pid_) reaped_ = true;
  return !reaped_;
}

ProcessResult ChildProcess::wait(std::chrono::milliseconds limit) {
  ProcessResult result;
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (running()) {
    if (std::chrono::steady_clock::now() > deadline) {
      kill(pid_, SIGKILL);
      waitpid(pid_, &status_, 0);
      reaped_ = true;
      result.timed_out = true;
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  if (!result.timed_out && WIFEXITED(status_)) result.exit_code = WEXITSTATUS(status_);
  result.out = read_file(out_path_);
  result.err = read_file(err_path_);
  return result;
}

std::string ChildProcess::stderr_so_far() const {
  return read_file(err_path_);
}

ProcessResult run_process(const std::vector<std::string>& argv, const EnvironmentChanges& env,
                          std::chrono::milliseconds limit, const std::string& working_directory) {
  ChildProcess child(argv, env, working_directory);
  return child.wait(limit);
}

std::string run_checked(const std::vector<std::string>& argv) {
  ProcessResult r = run_process(argv, {}, std::chrono::seconds(120));
  if (r.exit_code != 0) {
    std::string command;
    for (const auto& a : argv) command += a + " ";
    throw std::runtime_error("command failed (exit " + std::to_string(r.exit_code) + "): " + command + "\n" + r.out +
                             r.err);
  }
  return r.out;
}

bool ChildProcess::listens_on(unsigned short port) const {
  // /proc/net/tcp: "sl local_address rem_address st … inode": 0100007F:PORT, state 0A = LISTEN.
  char local[32];
  std::snprintf(local, sizeof local, "0100007F:%04X", port);
  std::ifstream tcp("/proc/net/tcp");
  std::string line, inode;
  std::getline(tcp, line);  // the header
  while (std::getline(tcp, line)) {
    std::istringstream fields(line);
    std::string slot, address, remote, state, queues, timer, retransmits, uid, timeout;
    fields >> slot >> address >> remote >> state >> queues >> timer >> retransmits >> uid >> timeout >> inode;
    if (address == local && state == "0A") break;
    inode.clear();
  }
  if (inode.empty()) return false;
  std::string fd_dir = "/proc/" + std::to_string(pid_) + "/fd", wanted = "socket:[" + inode + "]";
  std::error_code ec;
  for (const auto& fd : std::filesystem::directory_iterator(fd_dir, ec)) {
    std::error_code link_ec;
    if (std::filesystem::read_symlink(fd.path(), link_ec).string() == wanted) return true;
  }
  return false;
}

unsigned short free_port() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    close(fd);
    throw std::runtime_error("cannot bind a free port");
  }
  socklen_t len = sizeof addr;
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd);
  return ntohs(addr.sin_port);
}

TempDir::TempDir() {
  std::string pattern = (std::filesystem::temp_directory_path() / "nucleo-test-XXXXXX").string();
  if (mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  path_ = pattern;
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace nucleo::test
