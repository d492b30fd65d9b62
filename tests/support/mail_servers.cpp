#include "tests/support/mail_servers.hpp"

#include <dirent.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>

#include <fstream>
#include <stdexcept>
#include <thread>

namespace nucleo::test {

void make_certificates(const std::string& dir, const std::string& subject_alt_name) {
  auto openssl = [](std::vector<std::string> args) {
    args.insert(args.begin(), "/usr/bin/openssl");  // run_checked does not search PATH
    run_checked(args);
  };
  openssl({"req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", dir + "/ca.key", "-out", dir + "/ca.pem",
           "-days", "2", "-subj", "/CN=Nucleo test CA"});
  openssl({"req", "-newkey", "rsa:2048", "-nodes", "-keyout", dir + "/server.key", "-out", dir + "/server.csr",
           "-subj", "/CN=Nucleo test server"});
  std::ofstream(dir + "/san.ext") << "subjectAltName=" << subject_alt_name << "\n";
  openssl({"x509", "-req", "-in", dir + "/server.csr", "-CA", dir + "/ca.pem", "-CAkey", dir + "/ca.key",
           "-CAcreateserial", "-out", dir + "/server.pem", "-days", "2", "-extfile", dir + "/san.ext"});
}

TestSmtpServer::TestSmtpServer(const std::string& dir, const std::string& user, const std::string& password)
    : maildir_(dir + "/Maildir") {
  // Another test may take the port between free_port() and the bind: try a few.
  for (int attempt = 0; attempt < 5; ++attempt) {
    port_ = free_port();
    process_ = std::make_unique<ChildProcess>(std::vector<std::string>{
        "/usr/bin/python3", std::string(NUCLEO_SOURCE_DIR) + "/tests/support/smtp_server.py", "--maildir", maildir_,
        "--user", user, "--password", password, "--cert", dir + "/server.pem", "--key", dir + "/server.key", "--port",
        std::to_string(port_)});
    for (int i = 0; i < 200 && process_->running() && !process_->listens_on(port_); ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    if (process_->listens_on(port_)) return;
  }
  throw std::runtime_error("the SMTP server did not start: " + process_->stderr_so_far());
}

std::vector<std::string> TestSmtpServer::delivered() const {
  std::vector<std::string> out;
  if (DIR* d = opendir((maildir_ + "/new").c_str())) {
    while (dirent* e = readdir(d))
      if (e->d_name[0] != '.') out.push_back(read_file(maildir_ + "/new/" + e->d_name));
    closedir(d);
  }
  return out;
}

namespace {

// Who Dovecot runs as: `nobody` for root (its login processes refuse root), else ourselves.
struct ServerUser {
  std::string name;
  uid_t uid;
  gid_t gid;
};
ServerUser server_user() {
  passwd* p = getuid() == 0 ? getpwnam("nobody") : getpwuid(getuid());
  if (!p) throw std::runtime_error("no user to run Dovecot as");
  return {p->pw_name, p->pw_uid, p->pw_gid};
}

std::string group_name(gid_t gid) {
  group* g = getgrgid(gid);
  if (!g) throw std::runtime_error("no group " + std::to_string(gid));
  return g->gr_name;
}

void own_tree(const std::string& path, uid_t uid, gid_t gid) {
  if (getuid() != 0) return;
  if (chown(path.c_str(), uid, gid) != 0) throw std::runtime_error("cannot chown " + path);
  if (DIR* d = opendir(path.c_str())) {
    while (dirent* e = readdir(d)) {
      std::string name = e->d_name;
      if (name == "." || name == "..") continue;
      std::string child = path + "/" + name;
      struct stat st {};
      if (lstat(child.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) own_tree(child, uid, gid);
      else if (chown(child.c_str(), uid, gid) != 0) throw std::runtime_error("cannot chown " + child);
    }
    closedir(d);
  }
}

}  // namespace

TestImapServer::TestImapServer(const std::string& dir, const std::string& user, const std::string& password)
    : dir_(dir + "/imap"), user_(user) {
  for (const auto& sub : {dir_, dir_ + "/base", dir_ + "/state", dir_ + "/mail", dir_ + "/mail/" + user_, maildir(),
                          maildir() + "/new", maildir() + "/cur", maildir() + "/tmp"})
    mkdir(sub.c_str(), 0755);
  chmod(dir.c_str(), 0755);  // the server's user walks through the test's folder
  write_config(password);
  start();
}

TestImapServer::~TestImapServer() { stop(); }

void TestImapServer::write_config(const std::string& password) {
  ServerUser u = server_user();
  port_ = free_port();
  std::ofstream(dir_ + "/users") << user_ << ":{PLAIN}" << password << "\n";
  std::ofstream conf(dir_ + "/dovecot.conf");
  conf << "base_dir = " << dir_ << "/base\n"
       << "state_dir = " << dir_ << "/state\n"
       << "log_path = " << dir_ << "/dovecot.log\n"
       << "protocols = imap\nssl = no\ndisable_plaintext_auth = no\nlisten = 127.0.0.1\n"
       << "default_internal_user = " << u.name << "\ndefault_login_user = " << u.name << "\n"
       << "default_internal_group = " << group_name(u.gid) << "\n"
       << "first_valid_uid = 1\nfirst_valid_gid = 1\n"
       << "passdb {\n  driver = passwd-file\n  args = scheme=PLAIN username_format=%u " << dir_ << "/users\n}\n"
       << "userdb {\n  driver = static\n  args = uid=" << u.uid << " gid=" << u.gid << " home=" << dir_
       << "/mail/%u\n}\n"
       << "mail_location = maildir:" << dir_ << "/mail/%u/Maildir\n"
       << "service imap-login {\n  chroot =\n  inet_listener imap {\n    address = 127.0.0.1\n    port = " << port_
       << "\n  }\n  inet_listener imaps {\n    port = 0\n  }\n}\n"
       << "service anvil {\n  chroot =\n}\n"
       << "service stats {\n  unix_listener stats-reader {\n    user = " << u.name
       << "\n  }\n  unix_listener stats-writer {\n    user = " << u.name << "\n  }\n}\n";
}

void TestImapServer::own_for_server() const {
  ServerUser u = server_user();
  own_tree(dir_, u.uid, u.gid);
}

void TestImapServer::start(bool new_uidvalidity) {
  if (new_uidvalidity)
    for (const char* f : {"dovecot-uidlist", "dovecot.index", "dovecot.index.cache", "dovecot.index.log"})
      std::remove((maildir() + "/" + f).c_str());
  own_for_server();
  std::vector<std::string> argv{"/usr/sbin/dovecot", "-F", "-c", dir_ + "/dovecot.conf"};
  // setpriv execs Dovecot itself (runuser would stay between as its parent).
  if (getuid() == 0)
    argv.insert(argv.begin(), {"/usr/bin/setpriv", "--reuid=" + std::to_string(server_user().uid),
                               "--regid=" + std::to_string(server_user().gid), "--clear-groups", "--"});
  process_ = std::make_unique<ChildProcess>(argv);
  for (int i = 0; i < 200 && process_->running(); ++i) {
    if (process_->listens_on(port_)) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  throw std::runtime_error("Dovecot did not start: " + process_->stderr_so_far() + read_file(dir_ + "/dovecot.log"));
}

void TestImapServer::stop() {
  if (!process_) return;
  process_->signal(SIGTERM);  // the master takes its children down with it
  for (int i = 0; i < 100 && process_->running(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  process_.reset();
}

std::string TestImapServer::deliver(const std::string& message) {
  static std::atomic<int> sequence{0};
  std::string name = std::to_string(time(nullptr)) + ".nucleo" + std::to_string(getpid()) + "_" +
                     std::to_string(sequence++) + ".test";
  std::string tmp = maildir() + "/tmp/" + name;
  std::ofstream(tmp, std::ios::binary) << message;
  ServerUser u = server_user();
  if (getuid() == 0 && chown(tmp.c_str(), u.uid, u.gid) != 0) throw std::runtime_error("cannot chown " + tmp);
  if (std::rename(tmp.c_str(), (maildir() + "/new/" + name).c_str()) != 0) throw std::runtime_error("cannot deliver " + name);
  return name;
}

}  // namespace nucleo::test
