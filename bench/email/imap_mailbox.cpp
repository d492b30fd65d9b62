// A Dovecot mailbox of N realistic messages for the e-mail sync's benchmark (issue #23),
// served on loopback by the test suite's harness (tests/support/mail_servers.hpp) until
// SIGTERM or SIGINT. Prints "port=N" once the mailbox is filled.
//   imap_mailbox --dir D --user U --password P [--messages 10000] [--senders 1000]
#include <signal.h>

#include <cstdlib>
#include <iostream>
#include <map>
#include <string>

#include "tests/support/mail_servers.hpp"

namespace {

// One reply as a mail client sends it: multipart/alternative, accents in both parts, ~3 KB.
std::string message(int i, int senders) {
  int who = i % senders;
  std::string address = "cliente" + std::to_string(who) + "@empresa" + std::to_string(who % 50) + ".com.br";
  std::string text, html;
  for (int line = 0; line < 12; ++line) {
    text += "Linha " + std::to_string(line) + ": conforme combinado, seguem as condições de pagamento e a cotação.\r\n";
    html += "<p>Linha " + std::to_string(line) + ": conforme combinado, seguem as condi&ccedil;&otilde;es.</p>\r\n";
  }
  return "From: Cliente " + std::to_string(who) + " <" + address + ">\r\nTo: vendas@fornecedor.com.br\r\n"
         "Subject: =?UTF-8?Q?Re:_Cota=C3=A7=C3=A3o_" + std::to_string(i) + "?=\r\n"
         "Date: Fri, 04 Dec 2026 10:00:00 -0300\r\nMessage-ID: <bench." + std::to_string(i) + "@empresa.com.br>\r\n"
         "MIME-Version: 1.0\r\nContent-Type: multipart/alternative; boundary=alt\r\n\r\n"
         "--alt\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n" + text +
         "--alt\r\nContent-Type: text/html; charset=utf-8\r\n\r\n" + html + "--alt--\r\n";
}

}  // namespace

int main(int argc, char** argv) {
  std::map<std::string, std::string> args{{"--messages", "10000"}, {"--senders", "1000"}};
  for (int i = 1; i + 1 < argc; i += 2) args[argv[i]] = argv[i + 1];
  for (const char* required : {"--dir", "--user", "--password"})
    if (!args.count(required)) {
      std::cerr << "usage: imap_mailbox --dir D --user U --password P [--messages N] [--senders S]\n";
      return 2;
    }
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGTERM);
  sigaddset(&stop, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop, nullptr);
  try {
    nucleo::test::TestImapServer server(args["--dir"], args["--user"], args["--password"]);
    int messages = std::stoi(args["--messages"]), senders = std::stoi(args["--senders"]);
    for (int i = 0; i < messages; ++i) server.deliver(message(i, senders));
    std::cout << "port=" << server.port() << std::endl;
    int signal = 0;
    sigwait(&stop, &signal);
  } catch (const std::exception& e) {
    std::cerr << "imap_mailbox: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
