#include "kernel/http/import_routes.hpp"

#include <Poco/Net/HTMLForm.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/MessageHeader.h>
#include <Poco/Net/PartHandler.h>
#include <Poco/StreamCopier.h>

#include <sstream>

#include "kernel/http/route_helpers.hpp"
#include "kernel/services/import_jobs.hpp"

namespace nucleo::http {
namespace {

// The multipart upload: the file part kept whole (the route's size limit bounds it), the
// other parts as form fields.
class FilePart : public Poco::Net::PartHandler {
 public:
  void handlePart(const Poco::Net::MessageHeader& header, std::istream& stream) override {
    std::string disposition;
    Poco::Net::NameValueCollection params;
    Poco::Net::MessageHeader::splitParameters(header.get("Content-Disposition", ""), disposition, params);
    if (params.get("name", "") != "file") return;  // another file part: ignored
    name = params.get("filename", "");
    found = true;
    Poco::StreamCopier::copyToString(stream, bytes);
  }
  bool found = false;
  std::string name, bytes;
};

struct Upload {
  Json mapping, options = Json::object();
  std::string file_name, file;
};

Upload read_upload(const ApiRequest& req) {
  Poco::Net::HTTPRequest head(Poco::Net::HTTPRequest::HTTP_POST, req.path);
  head.setContentType(req.header("Content-Type"));
  std::istringstream body(req.body);
  FilePart file;
  Poco::Net::HTMLForm form;
  form.setFieldLimit(20);
  try {
    form.load(head, body, file);
  } catch (const Poco::Exception& e) {
    throw BadRequest("the body is not a multipart/form-data upload: " + e.displayText());
  }
  Upload u;
  std::vector<FieldError> problems;
  if (!file.found && form.has("file")) file.bytes = form.get("file"), file.found = true;  // sent as a plain field
  if (!file.found) problems.push_back({"file", "is required: the CSV file, as a form part named file"});
  if (form.has("mapping")) {  // absent: the plugin format's own (the service says when there is none)
    try {
      u.mapping = Json::parse(form.get("mapping"));
    } catch (const Json::exception&) {
      problems.push_back({"mapping", "is not JSON"});
    }
  }
  for (const char* name : {"format", "encoding", "delimiter"})
    if (form.has(name)) u.options[name] = form.get(name);
  for (const char* name : {"dry_run", "atomic"})
    if (form.has(name)) {
      std::string v = form.get(name);
      if (v == "true" || v == "false") u.options[name] = v == "true";
      else problems.push_back({name, "must be true or false"});
    }
  for (const auto& [name, value] : form)
    if (name != "mapping" && name != "file" && !u.options.contains(name) && name != "dry_run" && name != "atomic")
      problems.push_back({name, "is not a part of an import upload (file, mapping, format, encoding, delimiter, dry_run, atomic)"});
  if (!problems.empty()) throw Error(ErrorCode::validation, "invalid import upload", std::move(problems));
  u.file_name = file.name;
  u.file = std::move(file.bytes);
  return u;
}

Json upload_schema(std::size_t limit) {
  Json flag = {{"type", "string"}, {"enum", {"true", "false"}}};
  return {{"required", true},
          {"content",
           {{"multipart/form-data",
             {{"schema",
               {{"type", "object"},
                {"required", {"file"}},
                {"properties",
                 {{"file", {{"type", "string"}, {"format", "binary"}, {"maxLength", limit},
                            {"description", "the CSV or JSON Lines file"}}},
                  {"mapping", {{"type", "string"},
                               {"description", "the column mapping, JSON (docs/import.md); optional for a plugin's "
                                               "format that brings its own"}}},
                  {"format", {{"type", "string"},
                              {"description", "csv (the default), jsonl, or a format a loaded plugin provides"}}},
                  {"encoding", {{"type", "string"}, {"enum", {"utf-8", "iso-8859-1", "windows-1252"}}}},
                  {"delimiter", {{"type", "string"}, {"description", "one character, or tab; default: read off the header"}}},
                  {"dry_run", flag},
                  {"atomic", flag}}}}}}}}}};
}

Json import_schema() {
  Json text = {{"type", "string"}};
  Json nullable_text = {{"type", {"string", "null"}}};
  Json count = {{"type", "integer"}, {"minimum", 0}};
  Json nullable_count = {{"type", {"integer", "null"}}};
  Json time = {{"type", "string"}, {"format", "date-time"}};
  Json nullable_time = {{"type", {"string", "null"}}, {"format", "date-time"}};
  Json progress = {{"type", "object"},
                   {"required", {"rows_done", "created", "updated", "unchanged", "failed", "bytes_read", "percent",
                                 "rows_per_second", "eta_seconds"}},
                   {"properties",
                    {{"rows_done", count}, {"created", count}, {"updated", count}, {"unchanged", count},
                     {"failed", count}, {"bytes_read", count}, {"percent", count},
                     {"rows_per_second", nullable_count}, {"eta_seconds", nullable_count}}},
                   {"additionalProperties", false}};
  Json properties = {{"id", {{"type", "string"}, {"pattern", "^imp_[0-9a-z]{26}$"}}},
                     {"tenant_id", text},
                     {"status", {{"type", "string"}, {"enum", {"queued", "running", "done", "failed", "cancelled"}}}},
                     {"entity_type", text},
                     {"file_name", nullable_text},
                     {"file_bytes", count},
                     {"options", {{"type", "object"}}},
                     {"mapping", {{"type", "object"}}},
                     {"progress", progress},
                     {"error", nullable_text},
                     {"cancel_requested", {{"type", "boolean"}}},
                     {"created_by", {{"type", "object"}}},
                     {"created_at", time},
                     {"started_at", nullable_time},
                     {"finished_at", nullable_time},
                     {"updated_at", time}};
  Json required = Json::array();
  for (auto it = properties.begin(); it != properties.end(); ++it) required.push_back(it.key());
  return {{"type", "object"}, {"properties", properties}, {"required", required}, {"additionalProperties", false}};
}

ApiResponse import_response(Json import, int status = 200) {
  ApiResponse r;
  r.status = status;
  r.body = std::move(import);
  return r;
}

}  // namespace

void add_import_routes(Router& router, services::ServiceDependencies deps, const ApiSettings& settings,
                       std::size_t upload_limit) {
  auto service = [deps] { return services::ImportJobService(deps); };
  Route create{"POST", "/v1/imports", "create_import",
               "Upload a CSV file and its column mapping (multipart/form-data) to import it as a job: 202 with "
               "the queued import; its progress at GET /v1/imports/{id} (admin)",
               AuthMode::bearer, "", "imports", {}, [=](ApiRequest& req) {
                 Upload u = read_upload(req);
                 return import_response(service().create(req.ctx, u.mapping, u.options, u.file_name, u.file), 202);
               }};
  create.raw_request_types = {"multipart/form-data"};
  create.raw_request_limit = upload_limit;
  create.request_schema = upload_schema(upload_limit);
  router.add(answering(create, 202, import_schema()), Access::of_roles({"admin"}, "imports:write"));
  router.add(answering({"GET", "/v1/imports", "list_imports", "The tenant's imports, newest first (admin)",
              AuthMode::bearer, "", "imports", {"limit"}, [=](ApiRequest& req) {
                ApiResponse r;
                r.body["data"] = array_of(service().list(req.ctx, page_size(req, settings)));
                return r;
              }}, 200, list_schema(import_schema())), Access::of_roles({"admin"}, "imports:read"));
  router.add(answering({"GET", "/v1/imports/{id}", "get_import",
              "One import: its status and progress (rows done, created, updated, unchanged, failed, rate, time "
              "left) (admin)",
              AuthMode::bearer, "", "imports", {}, [=](ApiRequest& req) {
                return import_response(service().get(req.ctx, req.params.at("id")));
              }}, 200, import_schema()), Access::of_roles({"admin"}, "imports:read"));
  router.add(answering({"POST", "/v1/imports/{id}/cancel", "cancel_import",
              "Stop an import: a queued one at once, a running one after its batch under way (which is not "
              "written); rows of earlier batches stay (admin)",
              AuthMode::bearer, "", "imports", {}, [=](ApiRequest& req) {
                return import_response(service().cancel(req.ctx, req.params.at("id")));
              }}, 200, import_schema()), Access::of_roles({"admin"}, "imports:write"));
  router.add(answering(Route{"GET", "/v1/imports/{id}/errors", "import_errors",
              "The import's failed rows as CSV: row, line, column, message (admin)", AuthMode::bearer, "", "export",
              {}, [=](ApiRequest& req) {
                std::string id = req.params.at("id");
                service().get(req.ctx, id);  // 404 and 403 before the stream starts
                ApiResponse r;
                r.content_type = "text/csv";
                r.headers["Content-Disposition"] = "attachment; filename=\"" + id + "-errors.csv\"";
                r.stream = [deps, ctx = req.ctx, id](const BodyWriter& write) {
                  services::ImportJobService(deps).write_errors_csv(ctx, id, write);
                };
                return r;
              }}, 200, Json{{"type", "string"}}, {"text/csv"}), Access::of_roles({"admin"}, "imports:read"));
}

}  // namespace nucleo::http
