/*
 * Nucleo plugin ABI — the whole boundary between the kernel and a plugin.
 *
 * Pure C99, so a plugin can be written in any language that can export a C function.
 * C++ authors use the header-only SDK on top of it (the headers under nucleo/sdk/) and rarely read
 * this file; it is written to be read top to bottom once:
 *
 *   1. Versions and export macro     4. What the plugin gives the host (callbacks)
 *   2. Status codes                   5. What the host gives the plugin (host table)
 *   3. Bytes across the boundary      6. The entry point and its descriptor
 *
 * Rules that hold everywhere:
 *   - Text is UTF-8. Structured data crosses as JSON text (objects, snake_case keys).
 *   - Every buffer is (pointer, size); text is NOT NUL-terminated unless stated.
 *   - Memory is freed by the side that allocated it, with that side's free function
 *     (section 3). Nothing crosses as a C++ type, an exception or a FILE*.
 *   - Structs begin with `struct_size`: a reader must check it before touching a
 *     member added in a later minor version (section 1).
 *   - Callbacks may run concurrently on several threads (docs/architecture.md §6): keep plugin
 *     state thread-safe or guard it.
 */
#ifndef NUCLEO_PLUGIN_ABI_H
#define NUCLEO_PLUGIN_ABI_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- 1. Versions ----------------------------------------------------------------
 * A kernel loads a plugin built against the same MAJOR and a MINOR no newer than its
 * own. A minor version only appends: new members at the end of the host table and
 * descriptors, new status codes, new service names. Anything else is a new major. */
#define NUCLEO_ABI_MAJOR 1
#define NUCLEO_ABI_MINOR 11

#if defined(_WIN32)
#define NUCLEO_PLUGIN_EXPORT __declspec(dllexport)
#else
#define NUCLEO_PLUGIN_EXPORT __attribute__((visibility("default")))
#endif

/* The ABI a library was built for, readable without loading it (ABI 1.2): the text
 * "nucleo-abi <major>.<minor>" in the ELF section .nucleo_abi (`readelf -p .nucleo_abi`).
 * `nucleo plugins inspect` reads it without running plugin code, and the host refuses a
 * library whose tag disagrees with its descriptor. The C++ SDK's NUCLEO_PLUGIN places it;
 * a C plugin writes NUCLEO_PLUGIN_ABI_TAG once, at file scope. */
#define NUCLEO_ABI_TEXT_(x) #x
#define NUCLEO_ABI_TEXT(x) NUCLEO_ABI_TEXT_(x)
#if defined(_WIN32)
#define NUCLEO_PLUGIN_ABI_TAG_OF(major, minor)
#else
#define NUCLEO_PLUGIN_ABI_TAG_OF(major, minor)                                                      \
  __attribute__((section(".nucleo_abi"), used)) static const char nucleo_plugin_abi_tag[] =        \
      "nucleo-abi " NUCLEO_ABI_TEXT(major) "." NUCLEO_ABI_TEXT(minor);
#endif
#define NUCLEO_PLUGIN_ABI_TAG NUCLEO_PLUGIN_ABI_TAG_OF(NUCLEO_ABI_MAJOR, NUCLEO_ABI_MINOR)

/* ---- 2. Status codes --------------------------------------------------------------
 * Every fallible function returns one. On anything but NUCLEO_OK the function's
 * output buffer, when it has one, holds a UTF-8 message for a person (or, from
 * validators, the JSON array of reasons described there). Fixed-width, not an enum:
 * the size of a C enum is the compiler's choice. */
typedef int32_t nucleo_status;
#define NUCLEO_OK 0
#define NUCLEO_INVALID_ARGUMENT 1 /* malformed JSON, unknown field, bad value */
#define NUCLEO_NOT_FOUND 2        /* no such record, route, service or collection */
#define NUCLEO_FORBIDDEN 3        /* the call's actor may not do this */
#define NUCLEO_CONFLICT 4         /* the record changed meanwhile, or a duplicate */
#define NUCLEO_REJECTED 5         /* a validator vetoed the write */
#define NUCLEO_UNAVAILABLE 6      /* try again later (database down, rate limited) */
#define NUCLEO_UNSUPPORTED 7      /* this kernel does not offer it (yet) */
#define NUCLEO_INTERNAL 8         /* a bug; the message says where to look */

/* Log levels of nucleo_host_api.log. */
#define NUCLEO_LOG_DEBUG 0
#define NUCLEO_LOG_INFO 1
#define NUCLEO_LOG_WARNING 2
#define NUCLEO_LOG_ERROR 3

/* Route authentication (nucleo_host_api.register_route). */
#define NUCLEO_AUTH_BEARER 0 /* the kernel authenticates; tenant and actor come from the API key */
#define NUCLEO_AUTH_SIGNED 1 /* raw body and headers reach the plugin, which verifies the signature
                                and names the channel account that resolves the tenant */
#define NUCLEO_AUTH_PUBLIC 2 /* no authentication at all (health pages, OAuth redirects) */

/* ---- 3. Bytes across the boundary -------------------------------------------------
 * Three kinds, told apart by type so ownership is never a guess. */

/* Borrowed bytes: owned by the caller, valid only until the function it was passed to
 * returns. Copy what you keep. */
typedef struct nucleo_view {
  const char* data;
  size_t size;
} nucleo_view;

/* Bytes the HOST allocated and handed to the plugin (results of host functions). The
 * plugin owns them and must release them with nucleo_host_api.free_buffer, once. A
 * zeroed buffer (data NULL, size 0) needs no release. */
typedef struct nucleo_host_buffer {
  char* data;
  size_t size;
} nucleo_host_buffer;

/* Bytes the PLUGIN allocated and handed to the host (results of callbacks). The host
 * owns them and releases them with nucleo_plugin_descriptor.free_buffer, once. */
typedef struct nucleo_plugin_buffer {
  char* data;
  size_t size;
} nucleo_plugin_buffer;

/* Opaque handles. `nucleo_host` is the kernel instance, passed back to every host
 * function. `nucleo_call` is one unit of work — an HTTP request, an event delivery, a
 * job run, a validation — carrying its tenant, actor and (for validators) the open
 * transaction; pass the one you were given to the host functions you call while
 * handling it, or NULL outside any call. Never keep a nucleo_call after the callback
 * that received it returns. */
typedef struct nucleo_host nucleo_host;
typedef struct nucleo_call nucleo_call;

/* ---- 4. What the plugin gives the host (registered during init) --------------------
 * `user_data` is the pointer given at registration, returned untouched. Outputs are
 * plugin-allocated (nucleo_plugin_buffer) and may be left zeroed when there is nothing
 * to say. */

/* An HTTP request to one of the plugin's routes (/v1/x/<plugin id>/...).
 * request:  {"method","path","params":{},"query":{},"headers":{},"body","tenant_id",
 *            "actor","request_id"}; header names lower-case. Bearer routes: "body" is
 *            the parsed JSON (null when empty), the Authorization header is removed.
 *            Signed/public routes: "body" is the raw body, base64.
 * response: {"status": 200, "headers": {}, "body": <JSON value> } — or "body_base64"
 *           for bytes. A status other than NUCLEO_OK answers a problem whose detail
 *           is the message: INVALID_ARGUMENT and REJECTED → 422, NOT_FOUND → 404,
 *           FORBIDDEN → 403, CONFLICT → 409, UNAVAILABLE → 503; anything else → 500,
 *           the message logged, not shown. */
typedef nucleo_status (*nucleo_route_fn)(void* user_data, const nucleo_call* call, nucleo_view request_json,
                                         nucleo_plugin_buffer* response_json);

/* A domain event matching the subscription's pattern (docs/architecture.md §6 envelope: id, name,
 * tenant_id, occurred_at, actor, entity, data, causation_id, depth). Delivery is at
 * least once: use the event id to ignore repeats. Anything but NUCLEO_OK is retried
 * with back-off, then dead-lettered. */
typedef nucleo_status (*nucleo_event_fn)(void* user_data, const nucleo_call* call, nucleo_view event_json,
                                         nucleo_plugin_buffer* message);

/* A write about to be committed: {"action","entity_type","before","after"}. Runs
 * inside the writer's transaction: it may read through the host, never write. Return
 * NUCLEO_REJECTED with a JSON array of reasons, [{"field","message"}], to veto it;
 * nothing is written and the caller gets 422 listing them. */
typedef nucleo_status (*nucleo_validator_fn)(void* user_data, const nucleo_call* call, nucleo_view change_json,
                                             nucleo_plugin_buffer* reasons_json);

/* Sends one outbound message of a channel (WhatsApp, e-mail, ...), on a job worker,
 * never on an HTTP thread. message: {"channel_account","to","content",...};
 * result: {"external_id","delivery_status"}. NUCLEO_UNAVAILABLE is retried. */
typedef nucleo_status (*nucleo_send_fn)(void* user_data, const nucleo_call* call, nucleo_view message_json,
                                        nucleo_plugin_buffer* result_json);

/* One run of a job: {"job_id","name","tenant_id" (null for a global job),"scheduled_at",
 * "payload","attempt"}, on a job worker thread, in the job's tenant. Runs at least once:
 * after a node dies mid-run the job runs again, so use job_id (one-off jobs) or
 * scheduled_at (recurring ones) to ignore repeats. Anything but NUCLEO_OK is retried
 * with back-off (jobs.* settings). */
typedef nucleo_status (*nucleo_job_fn)(void* user_data, const nucleo_call* call, nucleo_view job_json,
                                       nucleo_plugin_buffer* message);

/* (ABI 1.2) The plugin's section of an account's briefing (GET /v1/accounts/{id}/briefing),
 * in the caller's tenant and as the caller. request: {"account": <the account as the
 * caller sees it>}; section: any JSON value, shown under "sections": {"<plugin id>.<name>"}.
 * Keep it small and fast: it runs on the request's thread. Failures leave the section
 * out, with {"error"}, and the rest of the briefing is still answered. */
typedef nucleo_status (*nucleo_briefing_fn)(void* user_data, const nucleo_call* call, nucleo_view request_json,
                                            nucleo_plugin_buffer* section_json);

/* (ABI 1.6) One step of an import format's parser (register_importer). The kernel reads
 * an uploaded file in chunks and hands them over in order, on the import's worker, as the
 * importing admin:
 *   step_json: {"format": "<name>", "final": false | true (no bytes follow),
 *               "carry": <what the previous step returned; null on the first>,
 *               "import_id": "imp_…", "dry_run": false | true}  (the last two: ABI 1.7;
 *               every run of one import, a resumed one too, sees the same import_id)
 *   bytes:     the file's next bytes (empty on the final step)
 *   rows_json: {"rows": [row, ...], "carry": <any JSON value>}, each row one of
 *              {"line": n, "fields": {"<column>": value, ...}}  mapped to the import's
 *                  entity as a JSON Lines object's keys are (docs/import.md);
 *              {"line": n, "record": {"collection", "id", "document"}}  a document of
 *                  the plugin's record store, written with the import's rows;
 *              {"line": n, "fact": {"set", "row": {…}}}  (ABI 1.8) a fact of one of the
 *                  plugin's fact sets (plugin.json "facts"), replacing the fact with the
 *                  same dimensions; the batch's facts are audited once;
 *              {"line": n, "error": "why"}  a row the parser could not read (reported;
 *                  the import goes on).
 * Keep nothing between steps but `carry` (a partial line, the header): a dry run, a
 * resumed import and every other import of the format start again from the first byte.
 * Anything but NUCLEO_OK stops the import; the message says why the file is unreadable. */
typedef nucleo_status (*nucleo_import_fn)(void* user_data, const nucleo_call* call, nucleo_view step_json,
                                          nucleo_view bytes, nucleo_plugin_buffer* rows_json);

/* (ABI 1.10) One chunk of a snapshot read (nucleo_host_api.read_snapshot): JSON Lines,
 * one row per line, each an object with its "kind". The bytes are borrowed. Answer
 * NUCLEO_OK for more; anything else stops the read (it is then not "complete"). */
typedef nucleo_status (*nucleo_snapshot_chunk_fn)(void* user_data, nucleo_view jsonl);

/* ---- 5. What the host gives the plugin ----------------------------------------------
 * Handed to init and valid until shutdown returns. Registration functions may be
 * called only during init. Functions a kernel does not implement yet return
 * NUCLEO_UNSUPPORTED (they are never NULL within struct_size). */
typedef struct nucleo_host_api {
  uint32_t struct_size; /* sizeof(nucleo_host_api) as the kernel was built */
  uint16_t abi_major;
  uint16_t abi_minor;
  nucleo_host* host; /* first argument of every function below */

  /* Releases a buffer a host function returned. */
  void (*free_buffer)(nucleo_host* host, nucleo_host_buffer buffer);

  /* Logs one line under the plugin's name. */
  void (*log)(nucleo_host* host, int32_t level, nucleo_view message);
  /* Adds `value` to a counter; labels_json is an object of string values (may be empty). */
  nucleo_status (*counter_add)(nucleo_host* host, nucleo_view name, nucleo_view labels_json, double value);
  /* Sets a gauge. */
  nucleo_status (*gauge_set)(nucleo_host* host, nucleo_view name, nucleo_view labels_json, double value);

  /* Calls a kernel service by name ("records.create", "records.get", "records.search",
   * "interactions.log", "tasks.complete", ... — docs/plugin-authoring.md lists them)
   * with a JSON request, as the call's actor, in the call's tenant. response: the
   * JSON result on NUCLEO_OK, the message otherwise. */
  nucleo_status (*call_service)(nucleo_host* host, const nucleo_call* call, nucleo_view service,
                                nucleo_view request_json, nucleo_host_buffer* response);

  /* Registration, during init only. Patterns and paths are copied. */
  nucleo_status (*register_route)(nucleo_host* host, nucleo_view method, nucleo_view path, int32_t auth,
                                  nucleo_route_fn handler, void* user_data);
  /* pattern: an event name, or a prefix ending in ".*" ("deal.*"), or "*". */
  nucleo_status (*register_subscription)(nucleo_host* host, nucleo_view pattern, nucleo_event_fn handler,
                                         void* user_data);
  nucleo_status (*register_validator)(nucleo_host* host, nucleo_view entity_type, nucleo_validator_fn validator,
                                      void* user_data);
  /* channel_json: {"name","kinds":["whatsapp"],"config_schema":{...},"reply_window_hours":24}
   * (reply_window_hours, ABI 1.3: free text only that long after the contact last wrote). */
  nucleo_status (*register_channel)(nucleo_host* host, nucleo_view channel_json, nucleo_send_fn send,
                                    void* user_data);
  /* job_json: {"name","schedule":"every 5m" | "cron 0 7 * * 1-5","scope":"tenant"|"global",
   * "time_zone"}. name: lower-case letters, digits, '.', '_', '-'. Without "schedule" the
   * job runs only when enqueued (enqueue_job). Schedules are UTC unless "time_zone" (ABI
   * 1.2) names an IANA zone or "tenant" (each tenant's own zone, scope "tenant");
   * docs/plugin-authoring.md has the syntax. Scope "tenant" (the default) runs a recurring
   * job once per tenant. */
  nucleo_status (*register_job)(nucleo_host* host, nucleo_view job_json, nucleo_job_fn run, void* user_data);
  /* schema_json: {"<namespace>.<key>": {"type","required","enum","pattern","minimum",
   * "maximum","format"}, ...} for the entity's `attributes`. */
  nucleo_status (*register_attribute_schema)(nucleo_host* host, nucleo_view entity_type, nucleo_view schema_json);

  /* The plugin's record store: tenant-scoped collections of JSON documents, audited. */
  nucleo_status (*record_put)(nucleo_host* host, const nucleo_call* call, nucleo_view collection, nucleo_view id,
                              nucleo_view document_json, nucleo_host_buffer* stored_json);
  nucleo_status (*record_get)(nucleo_host* host, const nucleo_call* call, nucleo_view collection, nucleo_view id,
                              nucleo_host_buffer* document_json);
  nucleo_status (*record_delete)(nucleo_host* host, const nucleo_call* call, nucleo_view collection,
                                 nucleo_view id);
  /* query_json: {"where":{"field":{"gte":...}},"limit":50,"cursor":...} on declared
   * indexed fields; result {"data":[...],"next_cursor":...}. */
  nucleo_status (*record_query)(nucleo_host* host, const nucleo_call* call, nucleo_view collection,
                                nucleo_view query_json, nucleo_host_buffer* result_json);

  /* Outbound HTTP through the kernel (timeouts, retries; private, loopback and
   * link-local addresses refused unless allow-listed).
   * request:  {"method","url","headers":{},"body" | "body_base64","timeout_ms"}
   * response: {"status","headers":{},"body_base64"} */
  nucleo_status (*http_request)(nucleo_host* host, const nucleo_call* call, nucleo_view request_json,
                                nucleo_host_buffer* response_json);

  /* ---- Added in ABI 1.1 ---- */

  /* Queues one run of a job this plugin registered, `delay_ms` from now (0: at once),
   * in the call's tenant (a global job: call may be NULL). The job survives a restart
   * and runs on a job worker. job_id: the new job's id on NUCLEO_OK, the message
   * otherwise. Refused in a validator's call (it may not write). */
  nucleo_status (*enqueue_job)(nucleo_host* host, const nucleo_call* call, nucleo_view name,
                               nucleo_view payload_json, int64_t delay_ms, nucleo_host_buffer* job_id);

  /* ---- Added in ABI 1.2 ---- (ABI 1.3 added no member: the kernel services
   * "channels.report" and "conversations.receive"'s "conversation_id", channels.resolve
   * moving a signed route's call from one account's tenant to another's, and
   * register_channel's "reply_window_hours" — docs/plugin-authoring.md. Nor did ABI 1.4:
   * the service "network.resolve", where a plugin speaking SMTP or IMAP may connect; nor
   * ABI 1.5: "conversations.receive" taking a batch, "messages", in one transaction; nor
 * ABI 1.7: "import_id" and "dry_run" in an import step; nor ABI 1.8: plugin.json's
 * "facts", "fact" rows of an import and the services "facts.aggregate" and "facts.write";
 * nor ABI 1.9: plugin.json's "consent_purposes" and the services "consent.allows" and
 * "consent.record", the consent ledger; nor ABI 1.11: the service "deals.gate", a stage
 * move's gate judged without moving.) */

  /* Who acts in `call`: {"tenant_id", "actor": {"type","id","on_behalf_of"}, "user_id",
   * "role", "teams": [...], "scopes": [...] | null, "request_id", "causation_id"}.
   * actor.type is key (an API key, on its own or for user_id), plugin (an event handler,
   * a job, a signed route after channels.resolve) or system; role null means the kernel
   * itself acts, unrestricted; scopes null means the role alone bounds the caller. */
  nucleo_status (*caller)(nucleo_host* host, const nucleo_call* call, nucleo_host_buffer* caller_json);

  /* The kernel's clock, microseconds since the Unix epoch, UTC — the time the call's
   * writes are stamped with. Use it rather than the system clock: tests move it. */
  int64_t (*now_micros)(nucleo_host* host, const nucleo_call* call);

  /* The plugin's settings for the call's tenant, as its admin set them (PUT
   * /v1/plugins/{id}/settings) against plugin.json "tenant_settings", defaults applied:
   * {"settings": {...}, "secrets": {...}}. Secrets are unsealed for the plugin only. */
  nucleo_status (*tenant_settings)(nucleo_host* host, const nucleo_call* call, nucleo_host_buffer* settings_json);

  /* A section of every account's briefing (nucleo_briefing_fn), during init.
   * section_json: {"name", "title"}; name: lower-case letters, digits, '_'. */
  nucleo_status (*register_briefing_section)(nucleo_host* host, nucleo_view section_json, nucleo_briefing_fn fn,
                                             void* user_data);

  /* record_put with optimistic concurrency: `expected_version` 0 creates (CONFLICT when
   * the id exists), n > 0 replaces version n (CONFLICT when it is another; NOT_FOUND when
   * absent), -1 writes whatever is there (as record_put). Of two writers expecting the
   * same version, one wins and the other gets CONFLICT. */
  nucleo_status (*record_put_version)(nucleo_host* host, const nucleo_call* call, nucleo_view collection,
                                      nucleo_view id, nucleo_view document_json, int64_t expected_version,
                                      nucleo_host_buffer* stored_json);

  /* ---- Added in ABI 1.6 ---- */

  /* An import format (nucleo_import_fn), during init. importer_json: {"name": lower-case
   * letters, digits, '_' (not csv or jsonl; one plugin per name), "title", "media_types":
   * ["text/csv", ...], "mapping": the mapping an import of this format uses when the
   * upload brings none (docs/import.md)}. Uploads name it as their format. */
  nucleo_status (*register_importer)(nucleo_host* host, nucleo_view importer_json, nucleo_import_fn parse,
                                     void* user_data);

  /* ---- Added in ABI 1.10 ---- */

  /* The call's tenant's sales process read whole from ONE snapshot (a consistent read:
   * every row as of the same instant), streamed to `chunk` on the calling thread:
   * pipelines, stages, users, accounts, contacts, deals, their stage history,
   * interactions and tasks — times, amounts, links and kinds, never a name, an e-mail
   * address, a subject, a body or a personal attribute. docs/plugin-authoring.md
   * ("Reading a snapshot") lists each kind's fields.
   * request: {"kinds": ["deal", ...] (default: all), "chunk_rows": 1-50000 (5000)}
   * summary: {"counts": {"<kind>": rows}, "as_of", "complete"} on NUCLEO_OK.
   * As the caller: the kernel's own work (a job, an event handler) or an admin, manager
   * or auditor (scope snapshot:read); audited once as snapshot.read. Not in a validator. */
  nucleo_status (*read_snapshot)(nucleo_host* host, const nucleo_call* call, nucleo_view request_json,
                                 nucleo_snapshot_chunk_fn chunk, void* user_data, nucleo_host_buffer* summary_json);
} nucleo_host_api;

/* ---- 6. The entry point ------------------------------------------------------------
 * A plugin exports exactly one symbol, `nucleo_plugin_entry`, returning a pointer to a
 * descriptor in static storage (never freed). The host reads it, checks the versions
 * and the id against plugin.json, then calls init once; shutdown is called once at
 * kernel exit (plugins are never unloaded while the kernel runs). */
typedef struct nucleo_plugin_descriptor {
  uint32_t struct_size; /* sizeof(nucleo_plugin_descriptor) as the plugin was built */
  uint16_t abi_major;   /* NUCLEO_ABI_MAJOR the plugin was built with */
  uint16_t abi_minor;   /* NUCLEO_ABI_MINOR the plugin was built with */
  const char* id;       /* reverse-DNS, NUL-terminated, equal to plugin.json "id" */
  const char* version;  /* semantic version, NUL-terminated, equal to plugin.json "version" */

  /* Registers what the plugin offers and prepares its state. config_json: the
   * plugins.<alias>.config.* keys, already checked against the manifest's schema.
   * On NUCLEO_OK, *state is handed back to shutdown; otherwise `message` says why
   * (the kernel reports it and keeps serving without the plugin). */
  nucleo_status (*init)(const nucleo_host_api* host, nucleo_view config_json, void** state,
                        nucleo_plugin_buffer* message);
  void (*shutdown)(void* state);
  /* Releases a buffer the plugin returned to the host. */
  void (*free_buffer)(nucleo_plugin_buffer buffer);
} nucleo_plugin_descriptor;

#define NUCLEO_PLUGIN_ENTRY_SYMBOL "nucleo_plugin_entry"
typedef const nucleo_plugin_descriptor* (*nucleo_plugin_entry_fn)(void);

#ifdef __cplusplus
}
#endif

#endif /* NUCLEO_PLUGIN_ABI_H */
