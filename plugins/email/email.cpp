// The e-mail channel (docs/channels/email.md), built on the SDK alone: one mailbox per
// channel account; a message to a contact is composed with GMime (message.hpp) and sent
// over SMTP with libcurl (smtp.hpp), to the address the kernel's network.resolve checked;
// the mailbox is read over IMAP (imap.hpp) and each new message parsed (inbound.hpp).
//
//   channel send   the interaction's text (and html, subject, reply_to) → SMTP
//   job sync       every tenant's mailboxes (channels.list) → new UIDs → one
//                  conversations.receive each, or a bounce → conversations.status failed
//
// Secrets of an account: smtp_password, imap_password (default: the SMTP one).
// Per mailbox the plugin keeps {uidvalidity, last_uid} in its collection "mailboxes".
#include <algorithm>
#include <atomic>
#include <exception>
#include <mutex>
#include <optional>
#include <thread>

#include "imap.hpp"
#include "inbound.hpp"
#include "message.hpp"
#include "nucleo/sdk/plugin.hpp"
#include "smtp.hpp"

namespace {

using nucleo::sdk::Json;
namespace mail = nucleo::email;

Json server_schema(int default_port) {
  return {{"type", "object"},
          {"required", {"host"}},
          {"properties",
           {{"host", {{"type", "string"}, {"minLength", 1}, {"maxLength", 253}}},
            {"port", {{"type", "integer"}, {"minimum", 1}, {"maximum", 65535},
                      {"description", "default " + std::to_string(default_port)}}},
            {"security", {{"type", "string"}, {"enum", {"starttls", "tls", "none"}},
                          {"description", "starttls (default), tls (implicit, port 465) or none (a relay on your own network)"}}},
            {"username", {{"type", "string"}, {"maxLength", 320}}}}},
          {"additionalProperties", false}};
}

Json imap_schema() {
  Json s = server_schema(993);
  s["properties"]["security"]["description"] = "tls (default, port 993), starttls (port 143) or none";
  s["properties"]["mailbox"] = {{"type", "string"}, {"pattern", "^[ -!#-\\[\\]-~]{1,200}$"},
                                {"description", "the folder synced (default INBOX)"}};
  return s;
}

constexpr std::size_t messages_per_run = 2000;  // a bigger backlog goes on in a follow-up run
constexpr std::size_t max_kept_file = 10u << 20;  // a larger file is described, not kept
constexpr std::size_t chunk_bytes = 180u << 10;   // base64 of it fits a 256 KiB record
constexpr std::int64_t lease_micros = 10LL * 60 * 1000000;  // a run that died frees its mailbox after this

class Email : public nucleo::sdk::Plugin {
 public:
  void init(nucleo::sdk::Host& host, const Json& config) override {
    host_ = &host;
    host.declare_attributes("contact", {{"email.hard_bounces", {{"type", "integer"}, {"minimum", 0}}},
                                        {"email.bouncing", {{"type", "boolean"}}}});
    std::string every = config.value("poll", "every 1m");
    connections_ = config.value("connections", 4);
    host.job("sync", every, nucleo::sdk::Scope::tenant, [this](const nucleo::sdk::Job& j) { sync_tenant(j); });
    host.route("GET", "/attachments/{interaction_id}/{index}", nucleo::sdk::Auth::bearer,
               [this](const nucleo::sdk::Request& r) { return attachment(r); });
    Json account_schema = {{"type", "object"},
                           {"required", {"address", "smtp"}},
                           {"properties",
                            {{"address", {{"type", "string"}, {"format", "email"}}},
                             {"display_name", {{"type", "string"}, {"maxLength", 200}}},
                             {"smtp", server_schema(587)},
                             {"imap", imap_schema()},
                             {"thread_window_days", {{"type", "integer"}, {"minimum", 0}, {"maximum", 365},
                                                     {"description", "a reply with no known ids joins the sender's thread of the same subject within this many days (default 14; 0: never)"}}},
                             {"keep_attachments", {{"type", "boolean"},
                                                   {"description", "keep the files of synced messages, up to 10 MiB each (default false: name, type and size only)"}}},
                             {"hard_bounces_to_flag", {{"type", "integer"}, {"minimum", 1}, {"maximum", 100},
                                                       {"description", "hard bounces after which the contact's e-mail is flagged email.bouncing (default 3)"}}},
                             {"unknown_senders", {{"type", "string"}, {"enum", {"lead", "keep"}}}}}},
                           {"additionalProperties", false}};
    host.channel({{"name", "email"}, {"kinds", {"email"}}, {"config_schema", account_schema}},
                 [this](const nucleo::sdk::OutboundMessage& m) { return send(m); });
  }

 private:
  struct Synced;
  // A message the kernel queued: compose, send, and say how it went — a 4xx or an
  // unreachable server is retried by the kernel (UNAVAILABLE); anything else is final.
  Json send(const nucleo::sdk::OutboundMessage& m) {
    const Json& account = m.json.value("channel_account", Json::object());
    const Json& config = account.value("config", Json::object());
    const Json& content = m.json.value("content", Json::object());
    if (content.contains("template"))
      throw nucleo::sdk::Error(NUCLEO_INVALID_ARGUMENT, "e-mail has no templates: send a text (and html)");
    mail::SmtpServer server = smtp_of(m, config, account.value("secrets", Json::object()));
    mail::Outgoing out;
    out.from = {config.value("display_name", ""), config.value("address", "")};
    out.to = {"", m.json.value("to", "")};
    out.subject = content.value("subject", "");
    out.text = content.value("text", "");
    out.html = content.value("html", "");
    out.interaction_id = content.value("interaction_id", "");
    if (content.value("reply_to", Json()).is_string()) out.references = {content["reply_to"].get<std::string>()};
    out.unsubscribe_url = content.value("unsubscribe_url", "");
    for (const auto& f : content.value("attachments", Json::array())) {
      auto bytes = mail::from_base64(f.value("content_base64", ""));
      if (!bytes) throw nucleo::sdk::Error(NUCLEO_INVALID_ARGUMENT, "an attachment's content is not base64");
      out.files.push_back({f.value("name", "file"), f.value("type", "application/octet-stream"), std::move(*bytes)});
    }
    out.date_micros = host_->now_micros(m.call);
    std::string message;
    try {
      message = mail::compose(out);
    } catch (const std::invalid_argument& e) {
      throw nucleo::sdk::Error(NUCLEO_INVALID_ARGUMENT, e.what());
    }
    mail::SmtpOutcome sent = mail::smtp_send(server, out.from.address, {out.to.address}, message);
    std::string account_id = account.value("id", "");
    if (sent.kind == mail::SmtpOutcome::Kind::sent) {
      if (!account.value("problem", Json()).is_null())
        host_->call(m.call, "channels.report", {{"channel_account_id", account_id}, {"problem", nullptr}});
      host_->count("messages_sent", Json::object());
      return Json{{"external_id", "<" + mail::message_id_for(out.interaction_id, out.from.address) + ">"},
                  {"delivery_status", "sent"}};
    }
    host_->count("send_errors", {{"outcome", sent.kind == mail::SmtpOutcome::Kind::retry ? "retry" : "failed"}});
    if (sent.credentials_refused)
      host_->call(m.call, "channels.report",
                  {{"channel_account_id", account_id}, {"problem", {{"code", "smtp_login_refused"}, {"message", sent.detail}}}});
    throw nucleo::sdk::Error(sent.kind == mail::SmtpOutcome::Kind::retry ? NUCLEO_UNAVAILABLE : NUCLEO_INVALID_ARGUMENT,
                             sent.detail);
  }

  // The account's SMTP server, at the address the kernel allows (a refused one is final).
  mail::SmtpServer smtp_of(const nucleo::sdk::OutboundMessage& m, const Json& config, const Json& secrets) {
    const Json& smtp = config.value("smtp", Json::object());
    mail::SmtpServer s;
    s.security = smtp.value("security", "starttls");
    s.host = smtp.value("host", "");
    s.port = smtp.value("port", s.security == "tls" ? 465 : 587);
    s.username = smtp.value("username", "");
    s.password = secrets.value("smtp_password", "");
    Json where;
    try {
      where = host_->call(m.call, "network.resolve", {{"host", s.host}, {"port", s.port}});
    } catch (const nucleo::sdk::Error& e) {
      if (e.status() == NUCLEO_UNAVAILABLE) throw;  // DNS may answer later
      throw nucleo::sdk::Error(NUCLEO_INVALID_ARGUMENT, std::string("the SMTP server: ") + e.what());
    }
    s.address = where.value("addresses", Json::array()).at(0);
    s.ca_file = where.value("ca_file", "");
    return s;
  }

  // Every mailbox of the job's tenant, each on its own: one that fails is reported on its
  // account (channels.report) and the others still sync. A payload naming an account
  // syncs that one only (a follow-up run of a large backlog).
  void sync_tenant(const nucleo::sdk::Job& job) {
    Json accounts = host_->call(job.call, "channels.list", Json::object())["data"];
    std::string only = job.json.value("payload", Json::object()).value("channel_account_id", "");
    for (const auto& account : accounts) {
      if (!account["config"].contains("imap") || (!only.empty() && account["id"] != only)) continue;
      try {
        sync_mailbox(job.call, account);
      } catch (const mail::ImapError& e) {
        host_->count("sync_errors", {{"outcome", e.kind() == mail::ImapError::Kind::unreachable ? "unreachable" : "refused"}});
        host_->log(nucleo::sdk::Level::warning, "mailbox of " + account["id"].get<std::string>() + ": " + e.what());
        Json problem = {{"code", e.kind() == mail::ImapError::Kind::login         ? "imap_login_refused"
                                 : e.kind() == mail::ImapError::Kind::unreachable ? "imap_unreachable"
                                                                                  : "imap_refused"},
                        {"message", e.what()}};
        host_->call(job.call, "channels.report", {{"channel_account_id", account["id"]}, {"problem", problem}});
      } catch (const nucleo::sdk::Error& e) {
        host_->log(nucleo::sdk::Level::warning, "mailbox of " + account["id"].get<std::string>() + ": " + e.what());
        host_->call(job.call, "channels.report",
                    {{"channel_account_id", account["id"]},
                     {"problem", {{"code", "imap_refused"}, {"message", e.what()}}}});
      } catch (const std::exception& e) {  // a defect here: the other mailboxes still sync
        host_->log(nucleo::sdk::Level::error, "mailbox of " + account["id"].get<std::string>() + ": " + e.what());
      }
    }
  }

  // Where a mailbox's sync stands: {uidvalidity, last_uid, lease_until_micros} and the
  // record's version. A run holds the lease while it works, so two runs of the job (a
  // slow sync overlapping the next poll, two nodes) never read the same mailbox at once.
  struct Place {
    Json document = Json::object();
    std::int64_t version = 0;  // 0: never synced
  };

  std::optional<Place> claim(const nucleo_call* call, const std::string& account_id) {
    Place place;
    try {
      Json record = host_->store_get(call, "mailboxes", account_id);
      place = {record["document"], record["version"].get<std::int64_t>()};
    } catch (const nucleo::sdk::Error& e) {
      if (e.status() != NUCLEO_NOT_FOUND) throw;
    }
    std::int64_t now = host_->now_micros(call);
    if (place.document.value("lease_until_micros", std::int64_t{0}) > now) return std::nullopt;
    place.document["lease_until_micros"] = now + lease_micros;
    if (!place.document.contains("uidvalidity")) place.document.update({{"uidvalidity", 0}, {"last_uid", 0}});
    return save(call, account_id, place);
  }

  // Saves the place; nullopt when another run took the mailbox over meanwhile.
  std::optional<Place> save(const nucleo_call* call, const std::string& account_id, Place place) {
    try {
      place.version = host_->store_put(call, "mailboxes", account_id, place.document, place.version)["version"];
      return place;
    } catch (const nucleo::sdk::Error& e) {
      if (e.status() != NUCLEO_CONFLICT && e.status() != NUCLEO_NOT_FOUND) throw;
      return std::nullopt;
    }
  }

  void sync_mailbox(const nucleo_call* call, const Json& account) {
    std::string account_id = account["id"];
    std::optional<Place> place = claim(call, account_id);
    if (!place) return;  // another run is reading this mailbox
    try {
      sync_claimed(call, account, *place);
    } catch (...) {
      place->document.erase("lease_until_micros");  // the next poll tries again at once
      save(call, account_id, *place);
      throw;
    }
  }

  // Messages are fetched and recorded by several connections at once (the kernel's
  // writes, not IMAP, are what a sync waits on). `done`: how many of `uids`, from the
  // first, were handled — the mailbox's place moves to the last of those only, so a
  // failure midway leaves the rest for the next run (and what a later connection already
  // recorded is then found as a duplicate). `failure`: the first connection's error.
  struct Fetched {
    std::size_t done = 0;
    std::exception_ptr failure;
  };

  Fetched fetch_in_parallel(const nucleo_call* call, const Json& account, mail::ImapMailbox& first_connection,
                            const std::vector<std::uint64_t>& uids, Synced& synced) {
    std::string account_id = account["id"];
    std::vector<char> handled(uids.size(), 0);
    std::atomic<std::size_t> next{0};
    std::atomic<bool> stop{false};
    std::mutex failure_mutex;
    Fetched out;
    auto work = [&](mail::ImapMailbox& box) {
      // Messages go to the kernel a batch at a time (one transaction each); a UID counts
      // as handled once its batch is recorded, so a failure reads it again next time.
      Batch batch;
      auto record = [&] {
        synced.record(batch);
        for (std::size_t i : batch.indices) handled[i] = 1;
        batch = Batch{};
      };
      try {
        for (std::size_t i; !stop && (i = next++) < uids.size();) {
          try {
            if (synced.message(box.fetch(uids[i]), uids[i], batch)) {
              batch.indices.push_back(i);
              if (batch.full()) record();
              continue;
            }
          } catch (const mail::ImapError& e) {
            if (e.kind() != mail::ImapError::Kind::too_large) throw;
            host_->log(nucleo::sdk::Level::warning, "mailbox of " + account_id + ", UID " + std::to_string(uids[i]) +
                                                        ": skipped, " + e.what());
            host_->count("messages_skipped", {{"reason", "too_large"}});
          }
          handled[i] = 1;
        }
        if (!stop && !batch.indices.empty()) record();
      } catch (...) {
        std::lock_guard lock(failure_mutex);
        if (!out.failure) out.failure = std::current_exception();
        stop = true;
      }
    };
    std::size_t extra = std::min<std::size_t>(connections_ - 1, uids.size() / 20);  // small batches: one connection
    std::vector<std::thread> threads;
    for (std::size_t t = 0; t < extra; ++t)
      threads.emplace_back([&] {
        try {
          mail::ImapMailbox box(imap_of(call, account["config"], account["secrets"]));
          work(box);
        } catch (...) {
          std::lock_guard lock(failure_mutex);
          if (!out.failure) out.failure = std::current_exception();
          stop = true;
        }
      });
    work(first_connection);
    for (auto& t : threads) t.join();
    while (out.done < handled.size() && handled[out.done]) ++out.done;
    return out;
  }

  void sync_claimed(const nucleo_call* call, const Json& account, Place& place) {
    std::string account_id = account["id"];
    const Json& config = account["config"];
    mail::ImapMailbox box(imap_of(call, config, account["secrets"]));
    mail::ImapMailbox::Status status = box.status();
    Json& where = place.document;
    std::uint64_t first = where["last_uid"].get<std::uint64_t>() + 1;
    if (where["uidvalidity"].get<std::uint64_t>() != status.uidvalidity) {
      if (where["uidvalidity"] != 0)
        host_->log(nucleo::sdk::Level::warning,
                   "mailbox of " + account_id + ": UIDVALIDITY changed from " + where["uidvalidity"].dump() + " to " +
                       std::to_string(status.uidvalidity) + ": read again from the start, known messages skipped");
      where["uidvalidity"] = status.uidvalidity;
      where["last_uid"] = 0;
      first = 1;
    }
    // The new UIDs, a window of UIDs at a time, up to a run's worth.
    std::vector<std::uint64_t> uids;
    std::uint64_t searched = first, last = status.uidnext - 1;
    while (searched <= last && uids.size() < messages_per_run) {
      std::uint64_t to = std::min(last, searched + mail::ImapMailbox::search_window - 1);
      for (auto uid : box.uids_between(searched, to)) uids.push_back(uid);
      searched = to + 1;
    }
    bool more = uids.size() > messages_per_run || searched <= last;
    if (uids.size() > messages_per_run) uids.resize(messages_per_run);
    Synced synced{this, call, account, config.value("thread_window_days", 14), config.value("hard_bounces_to_flag", 3),
                  config.value("keep_attachments", false)};
    if (!uids.empty())
      host_->log(nucleo::sdk::Level::info, "mailbox of " + account_id + ": reading UIDs " + std::to_string(uids.front()) +
                                               " to " + std::to_string(uids.back()) + " (" + std::to_string(uids.size()) +
                                               " messages" + (more ? ", more after them" : "") + ")");
    Fetched fetched = fetch_in_parallel(call, account, box, uids, synced);
    if (!uids.empty())
      host_->log(nucleo::sdk::Level::info, "mailbox of " + account_id + ": " + std::to_string(fetched.done) + " of " +
                                               std::to_string(uids.size()) + " messages read, " +
                                               std::to_string(synced.recorded.load()) + " recorded");
    if (fetched.done > 0) where["last_uid"] = uids[fetched.done - 1];
    if (fetched.failure) {
      save(call, account_id, place);  // what was recorded before the failure stays recorded
      std::rethrow_exception(fetched.failure);
    }
    where["synced_at_micros"] = host_->now_micros(call);
    where.erase("lease_until_micros");
    save(call, account_id, place);
    if (!account.value("problem", Json()).is_null())
      host_->call(call, "channels.report", {{"channel_account_id", account_id}, {"problem", nullptr}});
    if (more) host_->enqueue(call, "sync", {{"channel_account_id", account_id}});
  }

  // The account's IMAP server, at the address the kernel allows.
  mail::ImapServer imap_of(const nucleo_call* call, const Json& config, const Json& secrets) {
    const Json& imap = config["imap"];
    mail::ImapServer s;
    s.security = imap.value("security", "tls");
    s.host = imap.value("host", "");
    s.port = imap.value("port", s.security == "tls" ? 993 : 143);
    s.username = imap.value("username", config.value("address", ""));
    s.password = secrets.value("imap_password", secrets.value("smtp_password", ""));
    s.mailbox = imap.value("mailbox", "INBOX");
    Json where;
    try {
      where = host_->call(call, "network.resolve", {{"host", s.host}, {"port", s.port}});
    } catch (const nucleo::sdk::Error& e) {
      using Kind = mail::ImapError::Kind;
      throw mail::ImapError(e.status() == NUCLEO_UNAVAILABLE ? Kind::unreachable : Kind::refused,
                            std::string("the IMAP server: ") + e.what());
    }
    s.address = where.value("addresses", Json::array()).at(0);
    s.ca_file = where.value("ca_file", "");
    return s;
  }

  // Inbound messages on their way to the kernel, with what recording them needs after.
  struct Batch {
    static constexpr std::size_t most_messages = 50, most_bytes = 8u << 20;
    Json messages = Json::array();
    std::vector<mail::Incoming> incoming;  // each message's files, when they are kept
    std::vector<std::string> where;
    std::vector<std::size_t> indices;      // of the messages among the run's UIDs
    std::size_t bytes = 0;
    bool full() const { return messages.size() >= most_messages || bytes >= most_bytes; }
  };

  // One mailbox's messages as they arrive: each parsed, then a bounce settles the message
  // it returns and anything else becomes an inbound interaction. A message the kernel
  // refuses is logged and the sync goes on.
  struct Synced {
    Email* plugin;
    const nucleo_call* call;
    const Json& account;
    int thread_window_days;
    int hard_bounces_to_flag;
    bool keep_attachments = false;
    std::atomic<std::size_t> recorded{0};

    // Each file of a recorded message, in chunks the record store holds (its documents are
    // at most 256 KiB), as the contact's personal data: erasing her deletes them.
    void keep_files(const mail::Incoming& in, const Json& interaction, const std::string& where) const {
      nucleo::sdk::Host& host = *plugin->host_;
      if (!interaction.value("contact_id", Json()).is_string()) return;  // kept on nobody: nobody to erase them for
      std::string id = interaction["id"];
      for (std::size_t i = 0; i < in.attachments.size(); ++i) {
        const mail::Attachment& a = in.attachments[i];
        if (a.content.size() > max_kept_file) {
          host.log(nucleo::sdk::Level::warning, where + ": file " + a.name + " of " + std::to_string(a.content.size()) +
                                                    " bytes is over 10 MiB: described, not kept");
          continue;
        }
        std::size_t chunks = std::max<std::size_t>(1, (a.content.size() + chunk_bytes - 1) / chunk_bytes);
        for (std::size_t c = 0; c < chunks; ++c)
          host.store_put(call, "attachment_chunks", id + "." + std::to_string(i) + "." + std::to_string(c),
                         {{"interaction_id", id}, {"contact_id", interaction["contact_id"]}, {"index", i}, {"chunk", c},
                          {"chunks", chunks}, {"name", a.name}, {"type", a.type},
                          {"data_base64", mail::to_base64(a.content.substr(c * chunk_bytes, chunk_bytes))}});
      }
    }

    // Reads one fetched message: a bounce settles the message it returns, at once; an
    // inbound message joins `batch` (true) for record(). False: nothing to record.
    bool message(const std::string& raw, std::uint64_t uid, Batch& batch) {
      nucleo::sdk::Host& host = *plugin->host_;
      std::string where = "mailbox of " + account["id"].get<std::string>() + ", UID " + std::to_string(uid);
      mail::ParseOptions options;
      options.keep_attachment_content = keep_attachments;
      mail::Incoming in = mail::parse_incoming(raw, options);
      for (const auto& problem : in.problems) host.log(nucleo::sdk::Level::warning, where + ": " + problem);
      if (!in.message_id.empty() && mail::interaction_of(in.message_id)) return false;  // a copy of our own
      if (in.bounce) {
        try {
          bounce(*in.bounce, where);
        } catch (const nucleo::sdk::Error& e) {
          if (e.status() == NUCLEO_UNAVAILABLE) throw;
          host.log(nucleo::sdk::Level::warning, where + ": bounce not recorded: " + e.what());
        }
        return false;
      }
      if (in.from.address.empty()) {
        host.log(nucleo::sdk::Level::warning, where + ": no From (nor Sender) address: skipped");
        host.count("messages_skipped", {{"reason", "no_sender"}});
        return false;
      }
      batch.bytes += raw.size();
      batch.messages.push_back(inbound(in, raw));
      batch.where.push_back(where);
      if (!keep_attachments) in.attachments.clear();
      batch.incoming.push_back(std::move(in));
      return true;
    }

    // Hands the batch to the kernel in one call (conversations.receive, one transaction);
    // a message it refuses is logged and the rest are recorded.
    void record(const Batch& batch) {
      nucleo::sdk::Host& host = *plugin->host_;
      if (batch.messages.empty()) return;
      Json answer = host.call(call, "conversations.receive", {{"channel_account_id", account["id"]}, {"messages", batch.messages}});
      const Json& received = answer["received"];
      for (std::size_t i = 0; i < batch.messages.size() && i < received.size(); ++i) {
        if (received[i].contains("error")) {
          host.log(nucleo::sdk::Level::warning,
                   batch.where[i] + ": not recorded: " + received[i]["error"].value("message", std::string()));
          host.count("messages_skipped", {{"reason", "refused"}});
          continue;
        }
        host.count("messages_received", Json::object());
        ++recorded;
        if (keep_attachments && !received[i].value("duplicate", true))
          keep_files(batch.incoming[i], received[i]["interaction"], batch.where[i]);
      }
    }

    Json inbound(const mail::Incoming& in, const std::string& raw) const {
      nucleo::sdk::Host& host = *plugin->host_;
      // Without a Message-ID the bytes name the message, so a second copy is still known.
      std::string id = !in.message_id.empty() ? "<" + in.message_id + ">" : "sha256:" + mail::sha256_hex(raw);
      Json references = Json::array();
      for (const auto& r : in.references)
        if (references.size() < 20) references.push_back("<" + r + ">");
      Json attachments = Json::array();
      for (const auto& a : in.attachments) attachments.push_back({{"name", a.name}, {"type", a.type}, {"size", a.size}});
      Json content = {{"message_id", in.message_id}, {"attachments", attachments}};
      if (!in.html.empty()) content["html"] = in.html;
      if (!in.problems.empty()) content["problems"] = in.problems;
      Json m = {{"external_id", id},
                {"type", "email"},
                {"from", {{"email", in.from.address}, {"name", in.from.name}}},
                {"text", in.text},
                {"thread_id", id},
                {"references", references},
                {"subject_window_days", thread_window_days},
                {"content", content}};
      if (!in.subject.empty()) m["subject"] = in.subject;
      if (!in.reply_to.empty() && mail::is_address(in.reply_to)) m["reply_address"] = {{"email", in.reply_to}};
      std::int64_t date = in.date_micros > 0 ? in.date_micros : host.now_micros(call);
      m["occurred_at"] = mail::rfc3339_utc(date);
      return m;
    }

    void bounce(const mail::Bounce& b, const std::string& where) const {
      nucleo::sdk::Host& host = *plugin->host_;
      if (b.delayed) return host.log(nucleo::sdk::Level::info, where + ": delivery delayed for " + b.recipient);
      std::string reason = "bounced" + std::string(b.status.empty() ? "" : " (" + b.status + ")") +
                           (b.diagnostic.empty() ? "" : ": " + b.diagnostic);
      Json failed;
      try {
        failed = host.call(call, "conversations.status",
                           {{"channel_account_id", account["id"]},
                            {"status", {{"external_id", "<" + b.original_message_id + ">"}, {"status", "failed"}, {"error", reason}}}});
      } catch (const nucleo::sdk::Error& e) {
        if (e.status() != NUCLEO_NOT_FOUND) throw;
        host.log(nucleo::sdk::Level::info, where + ": a bounce of a message this account did not send: ignored");
        return;
      }
      host.count("bounces", {{"kind", b.hard ? "hard" : "soft"}});
      if (!b.hard || !failed.value("contact_id", Json()).is_string()) return;
      Json contact = host.call(call, "records.get", {{"type", "contact"}, {"id", failed["contact_id"]}});
      int hard = contact.value("attributes", Json::object()).value("email.hard_bounces", 0) + 1;
      Json attributes = {{"email.hard_bounces", hard}};
      if (hard >= hard_bounces_to_flag) attributes["email.bouncing"] = true;
      host.call(call, "records.update",
                {{"type", "contact"}, {"id", failed["contact_id"]}, {"data", {{"attributes", attributes}}}});
    }
  };

  // GET /attachments/{interaction_id}/{index}: a kept file, to a caller who may read the
  // interaction (the kernel answers records.get as the caller: 404 otherwise).
  nucleo::sdk::Response attachment(const nucleo::sdk::Request& r) {
    std::string id = r.param("interaction_id"), index = r.param("index");
    const nucleo::sdk::Request& r_in = r;
    auto not_found = [&] {
      nucleo::sdk::Response r{404, {{"type", "about:blank"}, {"title", "Not Found"}, {"status", 404},
                                    {"detail", "no kept file " + index + " of interaction " + id},
                                    {"request_id", r_in.json.value("request_id", "")}, {"errors", Json::array()}}};
      r.headers = {{"Content-Type", "application/problem+json"}};
      return r;
    };
    if (index.empty() || index.size() > 2 || index.find_first_not_of("0123456789") != std::string::npos) return not_found();
    host_->call(r.call, "records.get", {{"type", "interaction"}, {"id", id}});
    std::string bytes;
    for (std::size_t c = 0;; ++c) {
      Json chunk;
      try {
        chunk = host_->store_get(r.call, "attachment_chunks", id + "." + index + "." + std::to_string(c))["document"];
      } catch (const nucleo::sdk::Error& e) {
        if (e.status() != NUCLEO_NOT_FOUND) throw;
        return not_found();
      }
      bytes += mail::from_base64(chunk.value("data_base64", "")).value_or("");
      if (c + 1 >= chunk.value("chunks", std::size_t{1})) break;
    }
    // The name and type are the interaction's (content.attachments[index]): a plugin
    // route's answer carries no headers its OpenAPI description does not declare.
    return nucleo::sdk::Response::raw(200, "application/octet-stream", std::move(bytes));
  }

  nucleo::sdk::Host* host_ = nullptr;
  std::size_t connections_ = 4;  // IMAP connections per mailbox sync
};

}  // namespace

NUCLEO_PLUGIN(Email, "org.nucleo.email", "0.1.0")
