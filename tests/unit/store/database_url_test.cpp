#include "kernel/store/database_url.hpp"

#include <gtest/gtest.h>

#include "kernel/domain/error.hpp"

namespace nucleo::store {
namespace {

TEST(DatabaseUrl, SqliteTakesAPath) {
  auto url = parse_database_url("sqlite:var/nucleo.db");
  EXPECT_EQ(url.backend, Backend::sqlite);
  EXPECT_EQ(url.sqlite_path, "var/nucleo.db");
  EXPECT_EQ(url.connect_string, "db=\"var/nucleo.db\"");
  EXPECT_EQ(url.display, "sqlite:var/nucleo.db");
}

TEST(DatabaseUrl, SqlitePathWithSpacesIsQuoted) {
  EXPECT_EQ(parse_database_url("sqlite:/tmp/my data/n.db").connect_string, "db=\"/tmp/my data/n.db\"");
}

TEST(DatabaseUrl, PostgresUriBecomesKeywordsWithADefaultConnectTimeout) {
  auto url = parse_database_url("postgresql://nucleo_app:s3cret@db.example.com:5433/crm");
  EXPECT_EQ(url.backend, Backend::postgresql);
  EXPECT_NE(url.connect_string.find("host='db.example.com'"), std::string::npos);
  EXPECT_NE(url.connect_string.find("port='5433'"), std::string::npos);
  EXPECT_NE(url.connect_string.find("dbname='crm'"), std::string::npos);
  EXPECT_NE(url.connect_string.find("password='s3cret'"), std::string::npos);
  EXPECT_NE(url.connect_string.find("connect_timeout=5"), std::string::npos);
  EXPECT_EQ(url.display, "postgresql://nucleo_app@db.example.com:5433/crm");
}

TEST(DatabaseUrl, ExplicitConnectTimeoutIsKept) {
  auto url = parse_database_url("postgres://u@h/d?connect_timeout=2");
  EXPECT_NE(url.connect_string.find("connect_timeout='2'"), std::string::npos);
  EXPECT_EQ(url.connect_string.find("connect_timeout=5"), std::string::npos);
}

TEST(DatabaseUrl, KeywordFormIsAccepted) {
  auto url = parse_database_url("postgresql:host=127.0.0.1 port=6000 user=nucleo_owner dbname=x");
  EXPECT_EQ(url.backend, Backend::postgresql);
  EXPECT_EQ(url.display, "postgresql://nucleo_owner@127.0.0.1:6000/x");
}

TEST(DatabaseUrl, QuotesAreEscapedInValues) {
  auto url = parse_database_url("postgresql:host=h password='it\\'s'");
  EXPECT_NE(url.connect_string.find("password='it\\'s'"), std::string::npos);
}

TEST(DatabaseUrl, PasswordNeverShows) {
  auto url = parse_database_url("postgresql://u:topsecret@h/d");
  EXPECT_EQ(url.display.find("topsecret"), std::string::npos);
}

TEST(DatabaseUrl, RejectsUnknownSchemesAndBrokenUrls) {
  for (const char* bad :
       {"", "mysql://h/d", "var/nucleo.db", "sqlite:", "postgresql:host", "postgresql://h:notaport/d?x=1&&"}) {
    try {
      parse_database_url(bad);
      ADD_FAILURE() << "accepted " << bad;
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ErrorCode::validation) << bad;
      EXPECT_FALSE(e.fields().empty()) << bad;
    }
  }
}

}  // namespace
}  // namespace nucleo::store
