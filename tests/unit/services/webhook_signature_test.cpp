// Standard Webhooks signatures (webhook_delivery.hpp) against the example of the
// specification (standardwebhooks.com: secret, message id, timestamp and payload below),
// recomputed independently with Python's hmac before it was written here.
#include <gtest/gtest.h>

#include "kernel/services/webhook_delivery.hpp"

namespace nucleo::services {
namespace {

TEST(StandardWebhooks, SignsTheSpecificationsExample) {
  EXPECT_EQ(standard_webhook_signature("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "msg_p5jXN8AQM9LWM0D4loKWxJek",
                                       1614265330, R"({"test": 2432232314})"),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
}

TEST(StandardWebhooks, EveryPartOfTheMessageIsSigned) {
  const std::string secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
  const std::string signed_once = standard_webhook_signature(secret, "msg_1", 1614265330, "{}");
  EXPECT_NE(standard_webhook_signature(secret, "msg_2", 1614265330, "{}"), signed_once);
  EXPECT_NE(standard_webhook_signature(secret, "msg_1", 1614265331, "{}"), signed_once);
  EXPECT_NE(standard_webhook_signature(secret, "msg_1", 1614265330, "{ }"), signed_once);
  EXPECT_NE(standard_webhook_signature("whsec_" + std::string(32, 'A'), "msg_1", 1614265330, "{}"), signed_once);
}

}  // namespace
}  // namespace nucleo::services
