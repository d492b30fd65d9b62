#pragma once

// The schema of one value a plugin declares — an attribute on a core entity, a setting
// of its configuration (ADR 0019): JSON Schema draft 7 checked by valijson for the
// structure (type, enum, const, bounds, lengths, pattern, nested properties and items,
// additionalProperties), and Nucleo's formats checked by the kernel's own normalisers,
// so a CNPJ means the same in an attribute as in an account's tax_id. Messages are in
// the API's words ("must be at least 0"), each with the path below the value it names.

#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "kernel/domain/entity.hpp"

namespace nucleo {

struct ValueProblem {
  std::string path;  // below the value: "" for the value itself, ".city", "[2]"
  std::string message;
};

class ValueSchema {
 public:
  // The formats Nucleo checks: date (YYYY-MM-DD), date-time (RFC 3339), email, phone
  // (international, +55 11 …), cpf, cnpj.
  static const std::vector<std::string>& formats();

  // What is wrong with a declared rule, one line each (empty: it compiles). `extensions`
  // are the declarer's own keywords beside JSON Schema's, accepted at the top level
  // (an attribute's "required": true; a setting's "secret").
  static std::vector<std::string> problems(const Json& rule, const std::set<std::string>& extensions);

  // Compiles `rule` once; throws Error(validation) with problems() when it does not.
  ValueSchema(const Json& rule, const std::set<std::string>& extensions);
  ~ValueSchema();
  ValueSchema(ValueSchema&&) noexcept;
  ValueSchema& operator=(ValueSchema&&) noexcept;

  // Every way `value` breaks the rule (empty: it satisfies it). Thread-safe.
  std::vector<ValueProblem> check(const Json& value) const;
  // check() as a client's 422: Error(validation) "<what>: <field> <message>; …" with one
  // FieldError per problem, named from `root` ("body" → "body", ".city" → "city").
  void require(const Json& value, const std::string& root, const std::string& what) const;

  const Json& rule() const { return rule_; }

 private:
  struct Compiled;
  Json rule_;
  std::unique_ptr<Compiled> compiled_;
};

}  // namespace nucleo
