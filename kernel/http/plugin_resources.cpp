// A plugin's collections declared as resources (manifest "resource"), served with the
// kernel's protocol (docs/plugin-authoring.md, "Plugin resources"): the same shapes,
// validation errors, ETags and If-Match, cursors, Idempotency-Key and audit as the core
// resources, with no code in the plugin. Handlers call the plugin's record store, the
// one door its own writes go through too.
#include "kernel/http/plugin_resources.hpp"

#include <charconv>

#include "kernel/domain/id.hpp"
#include "kernel/http/cursor.hpp"
#include "kernel/http/route_helpers.hpp"
#include "kernel/services/plugin_record_service.hpp"

namespace nucleo::http {
namespace {

using plugins::Collection;
using plugins::Manifest;

const std::vector<std::string> operators{"gt", "gte", "lt", "lte"};

// The record as the API answers it: the document's fields beside the kernel's own.
Json resource_json(const Json& stored) {
  Json out = stored.at("document");
  out["id"] = stored.at("id");
  out["version"] = stored.at("version");
  out["created_at"] = stored.at("created_at");
  out["updated_at"] = stored.at("updated_at");
  return out;
}

// The same record rendered from the stored text, without parsing the document: the
// kernel's fields first, then the document's. A document holding a field of the
// kernel's own name (a collection whose schema allows extra fields) goes the parsed
// way, where the kernel's value wins.
std::string resource_text(const services::PluginRecordService::StoredText& d, const std::string& collection) {
  const std::string& doc = d.document;
  for (const char* reserved : {"\"id\":", "\"version\":", "\"created_at\":", "\"updated_at\":"})
    if (doc.find(reserved) != std::string::npos)
      return resource_json({{"id", d.id},
                            {"collection", collection},
                            {"document", Json::parse(doc)},
                            {"version", d.version},
                            {"created_at", format_rfc3339(Timestamp{d.created_at})},
                            {"updated_at", format_rfc3339(Timestamp{d.updated_at})}})
          .dump();
  std::string out = "{\"id\":" + Json(d.id).dump() + ",\"version\":" + std::to_string(d.version) +
                    ",\"created_at\":\"" + format_rfc3339(Timestamp{d.created_at}) + "\",\"updated_at\":\"" +
                    format_rfc3339(Timestamp{d.updated_at}) + "\"";
  return doc.size() > 2 ? out + "," + doc.substr(1) : out + "}";
}

Json record_schema(const Collection& c) {
  Json schema = c.schema;
  schema.erase("required");  // the answer is what was stored, whatever the rule then
  for (const char* field : {"id", "created_at", "updated_at"})
    schema["properties"][field] = {{"type", "string"}};
  schema["properties"]["version"] = {{"type", "integer"}, {"minimum", 1}};
  schema["required"] = {"id", "version", "created_at", "updated_at"};
  return schema;
}

std::vector<std::string> list_parameters(const Collection& c) {
  std::vector<std::string> names{"limit", "cursor", "sort", "count"};
  for (const auto& [field, type] : c.indexes) {
    names.push_back(field);
    for (const auto& op : operators) names.push_back(field + "." + op);
  }
  return names;
}

// ?status=open&value.gte=1000&sort=-value&count=true → the record store's query.
Json query_of(const ApiRequest& req, const Collection& c, const ApiSettings& settings, const std::string& scope) {
  Json q{{"limit", page_size(req, settings)}};
  Json where = Json::object();
  for (const auto& [name, text] : req.query) {
    if (name == "limit") continue;
    if (name == "cursor") {
      q["cursor"] = decode_cursor(scope, text, settings.cursor_secret);
    } else if (name == "sort") {
      q["sort"] = text;
    } else if (name == "count") {
      if (text != "true" && text != "false") throw BadRequest("count must be true or false", {{"count", "true or false"}});
      q["count"] = text == "true";
    } else {
      auto dot = name.find('.');
      std::string field = name.substr(0, dot), op = dot == std::string::npos ? "eq" : name.substr(dot + 1);
      const std::string& type = c.indexes.at(field);  // only declared names reach here
      Json value = text;
      if (type == "integer") {
        std::int64_t n = 0;
        auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), n);
        if (error != std::errc() || end != text.data() + text.size())
          throw BadRequest(name + " must be a whole number", {{name, "must be a whole number"}});
        value = n;
      }
      where[field][op] = value;
    }
  }
  if (!where.empty()) q["where"] = where;
  return q;
}

struct Mounted {
  std::string plugin_id, collection, base;
  Collection spec;
};

void add_one(Router& router, const plugins::PluginHost& host, const ApiSettings& settings, const Mounted& m) {
  const std::string one = m.base + "/{id}";
  const std::string op = "x_" + [&] {
    std::string id = m.plugin_id + "_" + m.collection;
    for (char& ch : id)
      if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
    return id;
  }();
  auto store = [&host, m] {
    auto records = host.record_store(m.plugin_id);
    if (!records) throw Error(ErrorCode::unavailable, "plugin " + m.plugin_id + " has no record store here");
    return std::move(*records);
  };
  Access read = Access::of_roles(m.spec.resource->read, m.plugin_id + ":read");
  Access write = Access::of_roles(m.spec.resource->write, m.plugin_id + ":write");
  Json record = record_schema(m.spec);
  std::string roles_note = " (plugin " + m.plugin_id + ")";

  Route list{"GET", m.base, op + "_list", "List " + m.collection + roles_note, AuthMode::bearer, "", "plugin",
             list_parameters(m.spec), [=](ApiRequest& req) {
               // A cursor continues the order it was made in: the sort is part of its scope.
               std::string scope = m.base + "?sort=" + (req.query.count("sort") ? req.query.at("sort") : "");
               auto records = store();
               auto page = records.query_text(req.ctx, m.collection, query_of(req, m.spec, settings, scope));
               if (!m.spec.sensitive.empty()) {
                 std::vector<std::string> shown;
                 for (const auto& d : page.data) shown.push_back(d.id);
                 records.record_reads(req.ctx, m.collection, shown);
               }
               std::string body = "{\"data\":[";
               for (std::size_t i = 0; i < page.data.size(); ++i)
                 body += (i ? "," : "") + resource_text(page.data[i], m.collection);
               Json next = page.next_cursor.is_null()
                               ? Json()
                               : Json(encode_cursor(scope, page.next_cursor.get<std::string>(), settings.cursor_secret));
               body += "],\"next_cursor\":" + next.dump();
               if (page.count) body += ",\"count\":" + std::to_string(*page.count);
               ApiResponse r;
               r.raw_body = body + "}";
               return r;
             }};
  Json page = page_schema(record);
  page["properties"]["count"] = {{"type", "integer"}, {"minimum", 0}, {"description", "with ?count=true"}};
  router.add(answering(std::move(list), 200, page), read);

  Route create{"POST", m.base, op + "_create", "Create one of " + m.collection + roles_note, AuthMode::bearer, "",
               "plugin", {}, [=](ApiRequest& req) {
                 std::string id = generate_id(m.spec.resource->id_prefix, req.ctx.now());
                 Json stored = store().put(req.ctx, m.collection, id, req.json(), 0);
                 ApiResponse r = record_response(resource_json(stored), 201);
                 r.headers["Location"] = m.base + "/" + id;
                 return r;
               },
               m.spec.schema};
  create.answers_location = true;
  router.add(answering(std::move(create), 201, record), write);

  // Roles named in break_glass read one record past the read roles, with a reason
  // (X-Reason) that the audit trail keeps beside the read.
  Access read_one = read;
  const auto& glass = m.spec.resource->break_glass;
  read_one.roles.insert(read_one.roles.end(), glass.begin(), glass.end());
  Route get{"GET", one, op + "_read",
            "One of " + m.collection + roles_note +
                (glass.empty() ? "" : "; break-glass roles read it with an X-Reason, audited"),
            AuthMode::bearer, "", "plugin", {}, [=](ApiRequest& req) {
              const auto& who = req.ctx.principal;
              const auto& readers = m.spec.resource->read;
              bool breaking_glass =
                  who && std::find(readers.begin(), readers.end(), who->role) == readers.end();
              if (breaking_glass && req.ctx.reason.empty())
                throw Error(ErrorCode::forbidden, "reading " + m.collection + " as " + who->role +
                                                      " breaks the glass: say why in X-Reason (it is audited)");
              auto records = store();
              Json stored = records.get(req.ctx, m.collection, req.params.at("id"));
              records.record_reads(req.ctx, m.collection, {req.params.at("id")}, breaking_glass ? req.ctx.reason : "");
              return record_response(resource_json(stored));
            }};
  router.add(answering(std::move(get), 200, record), read_one);

  // A JSON merge patch of the document's top-level fields (null removes one), held to
  // the schema as a whole; If-Match names the version it applies to.
  Json patch_body = {{"type", "object"}, {"additionalProperties", true}};
  Route patch{"PATCH", one, op + "_update", "Change one of " + m.collection + " (If-Match)" + roles_note,
              AuthMode::bearer, "", "plugin", {}, [=](ApiRequest& req) {
                Json changes = req.json();
                if (!changes.is_object()) throw Error(ErrorCode::validation, "a patch is a JSON object");
                auto records = store();
                Json current = records.get(req.ctx, m.collection, req.params.at("id"));
                std::int64_t version = current["version"];
                if (auto expected = expected_version(req); expected && *expected != version)
                  throw Error(ErrorCode::precondition_failed, req.params.at("id") + " is at version " +
                                                                  std::to_string(version) + ", not " +
                                                                  std::to_string(*expected));
                Json document = current["document"];
                for (const auto& [field, value] : changes.items()) {
                  if (field == "id" || field == "version" || field == "created_at" || field == "updated_at")
                    throw Error(ErrorCode::validation, field + " is the kernel's", {{field, "cannot be changed"}});
                  if (value.is_null()) document.erase(field);
                  else document[field] = value;
                }
                return record_response(resource_json(records.put(req.ctx, m.collection, req.params.at("id"),
                                                                  document, version)));
              },
              patch_body};
  router.add(answering(honouring_if_match(std::move(patch)), 200, record), write);

  Route remove{"DELETE", one, op + "_delete", "Delete one of " + m.collection + roles_note, AuthMode::bearer, "",
               "plugin", {}, [=](ApiRequest& req) {
                 const std::string& id = req.params.at("id");
                 // The version is checked in the deleting transaction: a write between
                 // a check and the delete cannot be lost.
                 store().remove(req.ctx, m.collection, id, expected_version(req));
                 ApiResponse r;
                 r.body = {{"id", id}, {"deleted", true}};
                 return r;
               }};
  router.add(answering(honouring_if_match(std::move(remove)), 200, deleted_schema()), write);
}

}  // namespace

void add_plugin_resource_routes(Router& router, const plugins::PluginHost& host, const ApiSettings& settings) {
  for (const auto& status : host.statuses()) {
    if (!status.loaded) continue;
    const Manifest* manifest = host.loaded_manifest(status.id);
    for (const auto& [name, c] : manifest->collections)
      if (c.resource) add_one(router, host, settings, {manifest->id, name, "/v1/x/" + manifest->id + "/" + name, c});
  }
}

}  // namespace nucleo::http
