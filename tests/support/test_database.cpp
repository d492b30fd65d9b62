#include "tests/support/test_database.hpp"

#include "tests/support/postgres_server.hpp"

namespace nucleo::test {

TestDatabase make_test_database(store::Backend backend) {
  TestDatabase db;
  db.backend = backend;
  if (backend == store::Backend::sqlite) {
    db.directory = std::make_shared<TempDir>();
    db.app_url = db.worker_url = db.owner_url = db.superuser_url = "sqlite:" + db.directory->path() + "/nucleo.db";
    return db;
  }
  PostgresDatabase pg = PostgresServer::shared().create_database();
  db.app_url = pg.app_url;
  db.worker_url = pg.worker_url;
  db.owner_url = pg.owner_url;
  db.superuser_url = pg.superuser_url;
  return db;
}

}  // namespace nucleo::test
