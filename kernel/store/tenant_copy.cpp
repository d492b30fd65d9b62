#include "kernel/store/tenant_copy.hpp"

#include <libpq-fe.h>

#include <algorithm>
#include <map>

#include "kernel/domain/error.hpp"
#include "kernel/store/sql.hpp"

namespace nucleo::store {
namespace {

PGconn* connection_of(soci::session& session) {
  if (session.get_backend_name() != "postgresql")
    throw Error(ErrorCode::validation, "moving a tenant needs PostgreSQL on both sides");
  return postgresql_connection(session);
}

std::string quoted_literal(PGconn* conn, const std::string& text) {
  char* quoted = PQescapeLiteral(conn, text.data(), text.size());
  if (!quoted) throw Error(ErrorCode::internal, std::string("cannot quote a value: ") + PQerrorMessage(conn));
  std::string result(quoted);
  PQfreemem(quoted);
  return result;
}

std::string key_column(const std::string& table) { return table == "tenants" ? "id" : "tenant_id"; }

// The columns a copy writes: all but generated ones, in table order.
std::string copied_columns(soci::session& session, const std::string& table) {
  std::string columns;
  query(session,
        "SELECT quote_ident(attname) FROM pg_attribute WHERE attrelid = ('public.' || quote_ident(:p0))::regclass"
        " AND attnum > 0 AND NOT attisdropped AND attgenerated = '' ORDER BY attnum",
        {table}, [&](const Row& row) { columns += (columns.empty() ? "" : ", ") + required_text(row, 0); });
  return columns;
}

void expect(PGresult* result, ExecStatusType status, PGconn* conn, const std::string& what) {
  bool ok = result && PQresultStatus(result) == status;
  std::string message = ok ? "" : PQerrorMessage(conn);
  PQclear(result);
  if (!ok) throw Error(ErrorCode::unavailable, what + ": " + message);
}

}  // namespace

std::vector<std::string> tenant_tables(soci::session& owner) {
  std::set<std::string> tables{"tenants"};
  query(owner,
        "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
        " WHERE n.nspname = 'public' AND c.relkind = 'r' AND EXISTS (SELECT 1 FROM pg_attribute a"
        "   WHERE a.attrelid = c.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped)",
        {}, [&](const Row& row) { tables.insert(required_text(row, 0)); });
  std::map<std::string, std::set<std::string>> parents;  // table → tables it references
  query(owner,
        "SELECT child.relname, parent.relname FROM pg_constraint f"
        " JOIN pg_class child ON child.oid = f.conrelid JOIN pg_class parent ON parent.oid = f.confrelid"
        " JOIN pg_namespace n ON n.oid = child.relnamespace"
        " WHERE f.contype = 'f' AND n.nspname = 'public' AND f.conrelid <> f.confrelid",
        {}, [&](const Row& row) {
          std::string child = required_text(row, 0), parent = required_text(row, 1);
          if (tables.count(child) && tables.count(parent)) parents[child].insert(parent);
        });
  // Parents first; among tables ready at once, by name, so every run takes one order.
  std::vector<std::string> order;
  while (order.size() < tables.size()) {
    bool progressed = false;
    for (const auto& table : tables) {
      if (std::find(order.begin(), order.end(), table) != order.end()) continue;
      bool ready = true;
      for (const auto& parent : parents[table])
        if (std::find(order.begin(), order.end(), parent) == order.end()) ready = false;
      if (!ready) continue;
      order.push_back(table);
      progressed = true;
    }
    if (!progressed) throw Error(ErrorCode::internal, "the tenant tables' foreign keys form a cycle");
  }
  return order;
}

std::int64_t tenant_rows(soci::session& session, const std::string& table, const std::string& tenant_id) {
  std::int64_t rows = 0;
  query(session, "SELECT count(*) FROM public." + table + " WHERE " + key_column(table) + " = :p0", {tenant_id},
        [&](const Row& row) { rows = required_integer(row, 0); });
  return rows;
}

std::int64_t copy_tenant_rows(soci::session& source, soci::session& target, const std::string& table,
                              const std::string& tenant_id) {
  PGconn* from = connection_of(source);
  PGconn* to = connection_of(target);
  std::string columns = copied_columns(source, table);
  expect(PQexec(from, ("COPY (SELECT " + columns + " FROM public." + table + " WHERE " + key_column(table) + " = " +
                       quoted_literal(from, tenant_id) + ") TO STDOUT")
                          .c_str()),
         PGRES_COPY_OUT, from, "cannot read " + table + " from the source");
  PGresult* in = PQexec(to, ("COPY public." + table + " (" + columns + ") FROM STDIN").c_str());
  if (!in || PQresultStatus(in) != PGRES_COPY_IN) {
    std::string message = PQerrorMessage(to);
    PQclear(in);
    while (PGresult* r = PQgetResult(from)) PQclear(r);  // the source's COPY ends with the connection's reset
    throw Error(ErrorCode::unavailable, "cannot write " + table + " on the target: " + message);
  }
  PQclear(in);
  std::int64_t rows = 0;
  char* line = nullptr;
  int length = 0;
  while ((length = PQgetCopyData(from, &line, 0)) > 0) {  // one row per call
    int sent = PQputCopyData(to, line, length);
    PQfreemem(line);
    if (sent != 1) break;
    ++rows;
  }
  bool read_all = length == -1;
  expect(PQgetResult(from), PGRES_COMMAND_OK, from, "reading " + table + " from the source failed");
  PQputCopyEnd(to, read_all ? nullptr : "the source stopped");
  expect(PQgetResult(to), PGRES_COMMAND_OK, to, "writing " + table + " on the target failed");
  while (PGresult* r = PQgetResult(to)) PQclear(r);
  return rows;
}

std::int64_t delete_tenant_rows(soci::session& owner, const std::string& table, const std::string& tenant_id) {
  bool guarded = false;
  query(owner,
        "SELECT 1 FROM pg_trigger WHERE tgrelid = ('public.' || quote_ident(:p0))::regclass AND NOT tgisinternal",
        {table}, [&](const Row&) { guarded = true; });
  if (guarded) owner << ("ALTER TABLE public." + table + " DISABLE TRIGGER USER");
  std::int64_t rows = execute(owner, "DELETE FROM public." + table + " WHERE " + key_column(table) + " = :p0", {tenant_id});
  if (guarded) owner << ("ALTER TABLE public." + table + " ENABLE TRIGGER USER");
  return rows;
}

}  // namespace nucleo::store

namespace nucleo::store {

void refresh_tenant_row(soci::session& source, soci::session& target, const std::string& tenant_id) {
  std::string columns = copied_columns(source, "tenants");
  std::string row;
  query(source, "SELECT row_to_json(t)::text FROM public.tenants t WHERE id = :p0", {tenant_id},
        [&](const Row& r) { row = required_text(r, 0); });
  if (row.empty()) throw Error(ErrorCode::not_found, "tenant " + tenant_id + " not found on the source");
  execute(target,
          "UPDATE public.tenants SET (" + columns + ") = (SELECT " + columns +
              " FROM json_populate_record(NULL::public.tenants, :p0::json)) WHERE id = :p1",
          {row, tenant_id});
}

}  // namespace nucleo::store
